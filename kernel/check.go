package main

import (
	"fmt"
	"io"

	"github.com/dlexp/dlexp/kernel/notebook"
)

// checkFailed is returned by check once it has printed what is wrong.
type checkFailed struct{ problems int }

func (c checkFailed) Error() string { return fmt.Sprintf("kernel: %d problems", c.problems) }

// check reads executed notebooks and prints every sign of a failed cell, and a missing GIF
// or chart when those are required.
func check(w io.Writer, paths []string, wantGIF, wantChart bool) error {
	if len(paths) == 0 {
		return fmt.Errorf("kernel: check: no notebook given")
	}
	problems := 0
	for _, path := range paths {
		nb, err := notebook.Read(path)
		if err != nil {
			return err
		}
		var found []string
		for _, p := range nb.Problems() {
			if p.Detail != "" {
				found = append(found, p.String()+"\n"+p.Detail)
			} else {
				found = append(found, p.String())
			}
		}
		if wantGIF && !nb.HasGIF() {
			found = append(found, "no inline GIF (image/gif output or data:image/gif image)")
		}
		if wantChart && !nb.HasChart() {
			found = append(found, "no ECharts chart (HTML output calling echarts.init)")
		}
		for _, f := range found {
			fmt.Fprintf(w, "%s: %s\n", path, f)
		}
		if len(found) == 0 {
			fmt.Fprintf(w, "%s: no errors in %d cells\n", path, len(nb.Cells))
		}
		problems += len(found)
	}
	if problems > 0 {
		return checkFailed{problems}
	}
	return nil
}
