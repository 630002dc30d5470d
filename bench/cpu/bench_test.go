package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// quickOptions are the options of the smoke runs: tiny sizes, one repeat.
var quickOptions = options{repeats: 1, warmup: 1, quick: true}

// TestEveryCaseRunsAtTinySizes is the smoke version of the benchmark: each Go measurement
// runs in this process on tiny shapes, so that the benchmark cannot rot unnoticed.
func TestEveryCaseRunsAtTinySizes(t *testing.T) {
	for _, c := range allCases(true) {
		if c.measure == nil {
			continue // measured by a Python script
		}
		t.Run(c.Name, func(t *testing.T) {
			p := c.Params
			if c.Name == "mnist-read" {
				if testing.Short() {
					t.Skip("reads all of MNIST")
				}
				images, labels, err := mnistFiles()
				if err != nil {
					t.Skip(err)
				}
				p.Images, p.Labels = images, labels
			}
			impls := []string{implDlexp}
			if c.Model {
				impls = append(impls, implBaseline)
			}
			for _, impl := range impls {
				m, err := c.measure(p, impl, quickOptions)
				if err != nil {
					t.Fatalf("%s: %v", impl, err)
				}
				m.finish()
				if len(m.Seconds) != 1 || m.Median <= 0 || m.Items <= 0 || m.PerSec <= 0 {
					t.Errorf("%s: measurement %+v", impl, m)
				}
				if c.Model && m.Params <= 0 {
					t.Errorf("%s: no parameter count", impl)
				}
			}
		})
	}
}

func TestChildPrintsOneMeasurement(t *testing.T) {
	var out, errs bytes.Buffer
	code := run([]string{"-child", "cityscapes-downscale", "-quick", "-repeats", "2",
		"-warmup", "0"}, &out, &errs)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs.String())
	}
	var m measurement
	if err := json.Unmarshal(out.Bytes(), &m); err != nil {
		t.Fatalf("output %q: %v", out.String(), err)
	}
	if m.Case != "cityscapes-downscale" || m.Impl != implDlexp || len(m.Seconds) != 2 {
		t.Errorf("measurement %+v", m)
	}
}

func TestFlagsAndCasesAreChecked(t *testing.T) {
	var out, errs bytes.Buffer
	if code := run([]string{"-cases", "no-such-case", "-out", ""}, &out, &errs); code == 0 {
		t.Error("an unknown case was accepted")
	}
	if code := run([]string{"-repeats", "0"}, &out, &errs); code != 2 {
		t.Errorf("-repeats 0: exit %d, want 2", code)
	}
	out.Reset()
	if code := run([]string{"-list"}, &out, &errs); code != 0 ||
		!strings.Contains(out.String(), "fcdensenet103-forward") {
		t.Errorf("-list printed %q", out.String())
	}
}

func TestReportTableAndJSON(t *testing.T) {
	r := newReport(options{repeats: 3, warmup: 1})
	var log bytes.Buffer
	r.add(row{Case: "unet-train", Title: "UNet train", PeerImpl: implTorch, Unit: "step",
		Dlexp: measurement{Median: 0.2, Items: 64, PerSec: 320, PeakMiB: 300, Params: 10},
		Peer:  measurement{Median: 0.1, Items: 64, PerSec: 640, PeakMiB: 600, Params: 12}}, &log)
	r.add(row{Case: "notebook-cell", Title: "cell", PeerImpl: implGoNB, Unit: "cell",
		Dlexp: measurement{Skipped: "kernel not installed"},
		Peer:  measurement{Error: "boom", Impl: implGoNB}}, &log)
	if x := r.Rows[0]; x.TimeRatio != 2 || x.MemoryRatio != 0.5 {
		t.Errorf("ratios %v, %v; want 2, 0.5", x.TimeRatio, x.MemoryRatio)
	}
	if !r.failed() || !strings.Contains(log.String(), "boom") {
		t.Errorf("the failed peer is not reported: %q", log.String())
	}
	var table bytes.Buffer
	r.writeTable(&table)
	for _, want := range []string{"UNet train", "2.00x", "0.50x", "skipped", "failed",
		"10 parameters, pytorch 12"} {
		if !strings.Contains(table.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, table.String())
		}
	}
	path := filepath.Join(t.TempDir(), "out", "bench.json")
	if err := r.writeJSON(path); err != nil {
		t.Fatal(err)
	}
	var back report
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &back); err != nil || len(back.Rows) != 2 ||
		back.Rows[0].TimeRatio != 2 {
		t.Errorf("JSON round trip: %v, %+v", err, back)
	}
}

// TestPeerScriptsRun checks that the Python scripts compile and, unless -short, that the
// numpy and PyTorch peers measure tiny cases.
func TestPeerScriptsRun(t *testing.T) {
	python := "/usr/bin/python3"
	if _, err := exec.LookPath(python); err != nil {
		t.Skip("no", python)
	}
	dir := t.TempDir()
	for name, script := range map[string][]byte{"peer.py": peerScript,
		"notebook.py": notebookScript} {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, script, 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(python, "-c", "import ast,sys; ast.parse(open(sys.argv[1]).read())",
			path)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s does not parse: %v\n%s", name, err, out)
		}
	}
	if testing.Short() {
		return
	}
	for _, c := range allCases(true) {
		if c.Name != "cityscapes-downscale" && c.Name != "unet-forward" {
			continue
		}
		if c.Peer == implTorch && exec.Command(python, "-c", "import torch").Run() != nil {
			t.Logf("%s: no PyTorch for %s", c.Name, python)
			continue
		}
		if exec.Command(python, "-c", "import numpy").Run() != nil {
			t.Skip("no numpy for", python)
		}
		ms := runScript(options{repeats: 1, warmup: 1, quick: true, python: python}, dir,
			"peer.py", c, c.Peer)
		if m := ms[0]; m.Error != "" || m.Median <= 0 || m.PeakMiB <= 0 {
			t.Errorf("%s peer: %+v", c.Name, m)
		}
	}
}
