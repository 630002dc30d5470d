// Command reproduce runs every experiment notebook headless through the "Go (dlexp)" kernel,
// once for each dataset present, and writes under the output folder, for each run,
// <notebook>/<dataset>/ with the executed notebook, its HTML export and what the notebook
// saved (GIFs, figures, metrics.json), then index.html linking them all with the headline
// numbers in a table.
//
//	go run ./cmd/reproduce                  # quick, or full when a GPU is found
//	go run ./cmd/reproduce -size quick -notebooks identity,denoiser -datasets mnist
//
// A dataset that is missing gets one line saying how to get it, and the other runs go on.
// The exit status is 1 when a notebook failed (an error output, a panic or a non-zero exit
// status in a cell), 2 on bad flags.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"time"

	"github.com/dlexp/dlexp/mlx/backend"
	"github.com/dlexp/dlexp/mlx/logs"
)

func main() {
	logs.Setup()
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// options are the command's flags.
type options struct {
	size      string
	out       string
	notebooks []string
	datasets  []string
	python    string
	dir       string // the folder holding the notebooks
	timeout   time.Duration
	resume    bool
}

// run parses args, runs the experiments and writes the index; it returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	o, err := parseFlags(args, stderr)
	if err != nil {
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	start := time.Now()
	if o.size == "auto" {
		o.size = autoSize(stdout)
	}
	plan := planRuns(ctx, o, stdout)
	fmt.Fprintf(stdout, "reproduce: %d runs at size %q into %s\n", len(plan.runs), o.size, o.out)

	var results []result
	failed := 0
	for i, r := range plan.runs {
		fmt.Fprintf(stdout, "[%d/%d] %s on %s ... ", i+1, len(plan.runs), r.notebook, r.dataset)
		res := execute(ctx, o, r)
		results = append(results, res)
		fmt.Fprintln(stdout, res.summaryLine())
		if !res.ok() {
			failed++
			for _, p := range res.problems {
				fmt.Fprintf(stdout, "    %s\n", p)
			}
		}
		if ctx.Err() != nil {
			break
		}
	}

	total := time.Since(start)
	idx := index{Size: o.size, Results: results, Skipped: plan.skipped, Wall: total,
		Backend: backend.Choose().String(), Time: start}
	path, err := idx.write(o.out)
	if err != nil {
		fmt.Fprintln(stderr, "reproduce:", err)
		return 1
	}
	fmt.Fprintf(stdout, "reproduce: %d runs, %d failed, %d skipped, in %s; index: %s\n",
		len(results), failed, len(plan.skipped), total.Round(time.Second), path)
	if failed > 0 || ctx.Err() != nil {
		return 1
	}
	return 0
}

// parseFlags reads the flags; errors are reported on stderr.
func parseFlags(args []string, stderr io.Writer) (options, error) {
	fs := flag.NewFlagSet("reproduce", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	var nbs, dss string
	fs.StringVar(&o.size, "size", envOr("DLEXP_SIZE", "auto"),
		`length of the experiments: "quick", "full", "smoke", or "auto" (full with a GPU)`)
	fs.StringVar(&o.out, "out", "out", "folder for the results")
	fs.StringVar(&nbs, "notebooks", "", "comma-separated notebooks to run (default: all)")
	fs.StringVar(&dss, "datasets", "", "comma-separated datasets to run on (default: all present)")
	fs.StringVar(&o.python, "python", envOr("DLEXP_PYTHON", "/usr/bin/python3"),
		"the Python that runs Jupyter")
	fs.StringVar(&o.dir, "dir", "notebooks", "folder holding the notebooks")
	fs.DurationVar(&o.timeout, "timeout", 0,
		"longest time one notebook may run (default 1h, 24h for the full size)")
	fs.BoolVar(&o.resume, "resume", false,
		"keep earlier results and checkpoints, so interrupted trainings go on")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		err := fmt.Errorf("unexpected arguments %q", fs.Args())
		fmt.Fprintln(stderr, "reproduce:", err)
		return o, err
	}
	switch o.size {
	case "auto", "quick", "full", "smoke":
	default:
		err := fmt.Errorf("-size %q: want auto, quick, full or smoke", o.size)
		fmt.Fprintln(stderr, "reproduce:", err)
		return o, err
	}
	o.notebooks, o.datasets = splitList(nbs), splitList(dss)
	for _, name := range o.notebooks {
		if _, ok := findExperiment(name); !ok {
			err := fmt.Errorf("-notebooks: unknown notebook %q (known: %s)", name,
				strings.Join(experimentNames(), ", "))
			fmt.Fprintln(stderr, "reproduce:", err)
			return o, err
		}
	}
	if o.timeout == 0 {
		o.timeout = time.Hour
		if o.size == "full" || o.size == "auto" {
			o.timeout = 24 * time.Hour
		}
	}
	abs, err := filepath.Abs(o.out)
	if err != nil {
		fmt.Fprintln(stderr, "reproduce:", err)
		return o, err
	}
	o.out = abs
	return o, nil
}

// autoSize picks "full" when the backend chosen for this machine computes on a GPU, else
// "quick", and says why.
func autoSize(w io.Writer) string {
	c := backend.Choose()
	if c.GPU {
		fmt.Fprintf(w, "reproduce: GPU backend %s: full size\n", c.Name())
		return "full"
	}
	fmt.Fprintf(w, "reproduce: no GPU backend (%s): quick size\n", c.Reason)
	slog.Info("reproduce: quick size", "backend", c.Name())
	return "quick"
}

// envOr returns the environment variable name, or def when it is empty.
func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// splitList splits a comma-separated list, dropping empty items and ".ipynb" suffixes.
func splitList(s string) []string {
	var out []string
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSuffix(strings.TrimSpace(item), ".ipynb"); item != "" {
			out = append(out, item)
		}
	}
	return out
}
