package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/dlexp/dlexp/mlx/cpubackend"
)

// row is one case of the report: dlexp, its peer and, with -baseline, the composed backend.
type row struct {
	Case        string       `json:"case"`
	Title       string       `json:"title"`
	PeerImpl    string       `json:"peer_impl"`
	Unit        string       `json:"unit"` // how the table shows times: "step", "items", "cell"
	Dlexp       measurement  `json:"dlexp"`
	Peer        measurement  `json:"peer"`
	Baseline    *measurement `json:"baseline,omitempty"`
	TimeRatio   float64      `json:"time_ratio,omitempty"`   // dlexp median / peer median
	MemoryRatio float64      `json:"memory_ratio,omitempty"` // dlexp peak / peer peak
}

// report is the whole benchmark, as written to JSON.
type report struct {
	Date        string `json:"date"`
	Go          string `json:"go"`
	CPU         string `json:"cpu"`
	Threads     int    `json:"threads"`
	MicroKernel string `json:"micro_kernel"`
	Repeats     int    `json:"repeats"`
	Warmup      int    `json:"warmup"`
	Quick       bool   `json:"quick,omitempty"`
	Rows        []row  `json:"rows"`
}

func newReport(o options) *report {
	return &report{Date: time.Now().UTC().Format(time.RFC3339), Go: runtime.Version(),
		CPU: cpuModel(), Threads: threads, MicroKernel: cpubackend.MicroKernel(),
		Repeats: o.repeats, Warmup: o.warmup, Quick: o.quick}
}

// add completes a row with its ratios, appends it and logs a line about it.
func (r *report) add(x row, log io.Writer) {
	if x.Dlexp.Median > 0 && x.Peer.Median > 0 {
		x.TimeRatio = x.Dlexp.Median / x.Peer.Median
	}
	if x.Dlexp.PeakMiB > 0 && x.Peer.PeakMiB > 0 {
		x.MemoryRatio = x.Dlexp.PeakMiB / x.Peer.PeakMiB
	}
	r.Rows = append(r.Rows, x)
	for _, m := range []*measurement{&x.Dlexp, &x.Peer, x.Baseline} {
		if m != nil && m.Error != "" {
			fmt.Fprintf(log, "bench: %s (%s) failed: %s\n", x.Case, m.Impl, m.Error)
		}
	}
}

// failed reports whether any measurement ended with an error (skips are not failures).
func (r *report) failed() bool {
	for _, x := range r.Rows {
		if x.Dlexp.Error != "" || x.Peer.Error != "" ||
			(x.Baseline != nil && x.Baseline.Error != "") {
			return true
		}
	}
	return false
}

// writeTable prints the table of results.
func (r *report) writeTable(w io.Writer) {
	fmt.Fprintf(w, "\ndlexp CPU benchmark, %s, %d threads, micro-kernel %s, median of %d",
		r.CPU, r.Threads, r.MicroKernel, r.Repeats)
	if r.Quick {
		fmt.Fprint(w, " (quick: tiny sizes, not a measurement)")
	}
	fmt.Fprintln(w)
	// Titles are padded to one width so that they read left-aligned.
	width := len("case")
	for _, x := range r.Rows {
		width = max(width, len(x.Title))
	}
	pad := func(s string) string { return s + strings.Repeat(" ", width-len(s)) }
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "%s\tdlexp\tpeer\t\ttime ratio\tdlexp MiB\tpeer MiB\tmem ratio\t\n",
		pad("case"))
	for _, x := range r.Rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", pad(x.Title),
			cell(x.Dlexp, x.Unit), cell(x.Peer, x.Unit), x.PeerImpl, ratio(x.TimeRatio),
			mib(x.Dlexp.PeakMiB),
			mib(x.Peer.PeakMiB), ratio(x.MemoryRatio))
		if b := x.Baseline; b != nil {
			fmt.Fprintf(tw, "%s\t%s\t\t\t%s\t%s\t\t\t\n", pad("  same, kernels=off"),
				cell(*b, x.Unit),
				ratio(safeRatio(b.Median, x.Peer.Median)), mib(b.PeakMiB))
		}
	}
	tw.Flush()
	fmt.Fprintln(w, "models: median seconds per step (images/s); data: items/s (median"+
		" seconds per repeat); cells: median seconds.\nratio = dlexp / peer: above 1 is"+
		" slower or bigger; peak memory is the child process's maximum resident set")
	for _, x := range r.Rows {
		for _, m := range []measurement{x.Dlexp, x.Peer} {
			if m.Skipped != "" {
				fmt.Fprintf(w, "%s (%s) skipped: %s\n", x.Case, m.Impl, m.Skipped)
			}
		}
		if x.Dlexp.Params > 0 && x.Peer.Params > 0 && x.Dlexp.Params != x.Peer.Params {
			fmt.Fprintf(w, "%s: dlexp has %d parameters, %s %d\n", x.Case, x.Dlexp.Params,
				x.PeerImpl, x.Peer.Params)
		}
	}
}

// cell formats a measurement for the table, in the row's unit.
func cell(m measurement, unit string) string {
	switch {
	case m.Error != "":
		return "failed"
	case m.Skipped != "":
		return "skipped"
	case m.Median == 0:
		return "-"
	case unit == "step":
		return fmt.Sprintf("%.3gs (%s)", m.Median, perSecond(m.PerSec))
	case unit == "items":
		return fmt.Sprintf("%s (%.3gs)", perSecond(m.PerSec), m.Median)
	}
	return fmt.Sprintf("%.3gs", m.Median)
}

// perSecond formats a rate.
func perSecond(v float64) string {
	switch {
	case v >= 1e4:
		return fmt.Sprintf("%.0fk/s", v/1e3)
	case v >= 100:
		return fmt.Sprintf("%.0f/s", v)
	}
	return fmt.Sprintf("%.3g/s", v)
}

func ratio(v float64) string {
	if v == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2fx", v)
}

func safeRatio(a, b float64) float64 {
	if a == 0 || b == 0 {
		return 0
	}
	return a / b
}

func mib(v float64) string {
	if v == 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f", v)
}

// writeJSON writes the report to path, creating its folder.
func (r *report) writeJSON(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(data, '\n'), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// cpuModel returns the processor's model name, from /proc/cpuinfo where there is one.
func cpuModel() string {
	data, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	for _, line := range strings.Split(string(data), "\n") {
		if name, value, ok := strings.Cut(line, ":"); ok &&
			strings.TrimSpace(name) == "model name" {
			return strings.TrimSpace(value)
		}
	}
	return runtime.GOARCH
}
