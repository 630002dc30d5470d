package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
)

// frameworks are the columns of the table, dlexp first: the ratios are dlexp's images/s over
// each peer's.
var frameworks = []struct{ key, title string }{
	{"dlexp", "dlexp"}, {"jax", "JAX"}, {"pytorch", "PyTorch"},
}

// readResults reads JSON lines from files; blank lines are skipped.
func readResults(paths []string) ([]result, error) {
	var all []result
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			return nil, fmt.Errorf("gpubench: %w", err)
		}
		sc := bufio.NewScanner(f)
		for n := 1; sc.Scan(); n++ {
			line := strings.TrimSpace(sc.Text())
			if line == "" {
				continue
			}
			var r result
			if err := json.Unmarshal([]byte(line), &r); err != nil {
				f.Close()
				return nil, fmt.Errorf("gpubench: %s:%d: %w", p, n, err)
			}
			all = append(all, r)
		}
		err = sc.Err()
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("gpubench: %s: %w", p, err)
		}
	}
	return all, nil
}

// writeTable prints the images/s of each model in each framework, dlexp's ratio to each peer,
// the time of each first (compiling) step, then the epoch timings.
func writeTable(w io.Writer, results []result) error {
	type key struct{ model, framework string }
	steps := map[key]result{}
	var models []string
	var epochs []result
	for _, r := range results {
		if r.Epochs > 0 {
			epochs = append(epochs, r)
			continue
		}
		k := key{r.Model, r.Framework}
		if _, seen := steps[k]; !seen && !containsModel(models, r.Model) {
			models = append(models, r.Model)
		}
		steps[k] = r
	}

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	header := []string{"model", "input", "batch"}
	for _, f := range frameworks {
		header = append(header, f.title+" img/s")
	}
	for _, f := range frameworks[1:] {
		header = append(header, "dlexp/"+f.title)
	}
	header = append(header, "1st step s (dlexp/JAX/PyTorch)")
	fmt.Fprintln(tw, strings.Join(header, "\t")+"\t")

	for _, m := range models {
		var ref result
		for _, f := range frameworks {
			if r, ok := steps[key{m, f.key}]; ok {
				ref = r
				break
			}
		}
		row := []string{m, shapeString(ref.Shape), fmt.Sprint(ref.Batch)}
		var first []string
		for _, f := range frameworks {
			r, ok := steps[key{m, f.key}]
			row = append(row, rate(r, ok))
			first = append(first, seconds(r.CompileS, ok))
		}
		d, dok := steps[key{m, "dlexp"}]
		for _, f := range frameworks[1:] {
			p, pok := steps[key{m, f.key}]
			if dok && pok && p.ImagesPerS > 0 {
				row = append(row, fmt.Sprintf("%.2fx", d.ImagesPerS/p.ImagesPerS))
			} else {
				row = append(row, "-")
			}
		}
		row = append(row, strings.Join(first, " / "))
		fmt.Fprintln(tw, strings.Join(row, "\t")+"\t")
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	backends := map[string]string{}
	for _, r := range results {
		if r.Epochs == 0 && r.Backend != "" {
			backends[r.Framework] = r.Backend
		}
	}
	var on []string
	for _, f := range frameworks {
		if b, ok := backends[f.key]; ok {
			on = append(on, f.title+" on "+b)
		}
	}
	if len(on) > 0 {
		fmt.Fprintf(w, "float32 training steps with Adam; %s.\n", strings.Join(on, ", "))
	}

	for _, r := range epochs {
		unit := "epochs"
		if r.Epochs == 1 {
			unit = "epoch"
		}
		fmt.Fprintf(w, "%s %s, %d %s of %d steps x %d images (%s) on %s: %.1f s wall, "+
			"first step %.1f s, %.0f images/s, final loss %.4f\n",
			r.Framework, r.Model, r.Epochs, unit, r.Steps/r.Epochs, r.Batch, r.Data, r.Backend,
			r.WallS, r.CompileS, r.ImagesPerS, r.Loss)
	}
	return nil
}

// printTable reads result files and writes the table.
func printTable(w io.Writer, paths []string) error {
	if len(paths) == 0 {
		return fmt.Errorf("gpubench: table needs result files")
	}
	results, err := readResults(paths)
	if err != nil {
		return err
	}
	return writeTable(w, results)
}

func containsModel(models []string, m string) bool {
	for _, x := range models {
		if x == m {
			return true
		}
	}
	return false
}

// shapeString writes height x width x channels.
func shapeString(shape []int) string {
	parts := make([]string, len(shape))
	for i, d := range shape {
		parts[i] = fmt.Sprint(d)
	}
	return strings.Join(parts, "x")
}

// rate formats images/s, "-" when missing.
func rate(r result, ok bool) string {
	if !ok || r.ImagesPerS <= 0 {
		return "-"
	}
	if r.ImagesPerS >= 100 {
		return fmt.Sprintf("%.0f", r.ImagesPerS)
	}
	return fmt.Sprintf("%.1f", r.ImagesPerS)
}

// seconds formats a duration in seconds, "-" when missing.
func seconds(s float64, ok bool) string {
	if !ok {
		return "-"
	}
	return fmt.Sprintf("%.1f", s)
}
