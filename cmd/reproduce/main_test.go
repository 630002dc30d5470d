package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestHeadlineShowsImageScoresBesideBaselines(t *testing.T) {
	m := map[string]any{"psnr": 21.234, "ssim": 0.8123, "bicubic_psnr": 19.5,
		"bicubic_ssim": 0.75, "nearest_psnr": 17.0, "nearest_ssim": 0.6}
	got := headline(m)
	want := "PSNR 21.23 dB, SSIM 0.812 (repeated pixels 17.00 dB / 0.600; bicubic 19.50 dB / 0.750)"
	if got != want {
		t.Errorf("headline = %q, want %q", got, want)
	}
}

func TestHeadlineShowsSegmentationScores(t *testing.T) {
	m := map[string]any{"accuracy": 0.9712, "mean_iou": 0.5, "background_only_accuracy": 0.8,
		"background_only_mean_iou": 0.07, "walkable_accuracy": 0.9, "walkable_mean_iou": 0.8}
	got := headline(m)
	for _, want := range []string{"full classes: accuracy 0.971, mean IoU 0.500",
		"all background: 0.800, 0.070",
		"walkable: accuracy 0.900, mean IoU 0.800"} {
		if !strings.Contains(got, want) {
			t.Errorf("headline %q lacks %q", got, want)
		}
	}
	if got := headline(map[string]any{"notebook": "x"}); got != "" {
		t.Errorf("headline without numbers = %q, want empty", got)
	}
}

func TestSplitListDropsBlanksAndSuffixes(t *testing.T) {
	got := splitList(" identity.ipynb, ,denoiser,")
	if len(got) != 2 || got[0] != "identity" || got[1] != "denoiser" {
		t.Errorf("splitList = %q", got)
	}
}

func TestParseFlagsRejectsUnknownNotebookAndSize(t *testing.T) {
	for _, args := range [][]string{{"-notebooks", "nope"}, {"-size", "huge"}, {"extra"}} {
		var stderr bytes.Buffer
		if _, err := parseFlags(args, &stderr); err == nil {
			t.Errorf("parseFlags(%q) accepted", args)
		} else if stderr.Len() == 0 {
			t.Errorf("parseFlags(%q) said nothing on stderr", args)
		}
	}
}

func TestPlanSkipsMissingDatasetsWithOneLineEach(t *testing.T) {
	t.Setenv("CITYSCAPES_DATASET", "")
	t.Setenv("DLEXP_DATA", t.TempDir()) // an empty data cache: no CIFAR
	o := options{size: "quick", notebooks: []string{"cityscapes", "identity"},
		datasets: []string{"cityscapes", "cifar10", "cifar100"}}
	var out bytes.Buffer
	p := planRuns(context.Background(), o, &out)
	if len(p.runs) != 0 {
		t.Errorf("runs = %v, want none", p.runs)
	}
	if len(p.skipped) != 3 {
		t.Fatalf("skipped = %v, want cityscapes, cifar10 and cifar100", p.skipped)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 3 {
		t.Errorf("want one line per missing dataset, got:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "CITYSCAPES_DATASET") {
		t.Errorf("the cityscapes line does not say how to get it:\n%s", out.String())
	}
}

func TestIndexLinksEveryRunAndFile(t *testing.T) {
	dir := t.TempDir()
	run := filepath.Join(dir, "identity", "mnist")
	if err := os.MkdirAll(filepath.Join(run, "checkpoints-quick"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string]string{
		"identity.gif": "GIF89a", "loss.png": "png", "loss.html": "<html>",
		"identity.html": "<html>", "metrics.json": `{"psnr": 30.5, "ssim": 0.95}`,
		"checkpoints-quick/x.json": "{}",
	} {
		if err := os.WriteFile(filepath.Join(run, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ok := result{Notebook: "identity", Dataset: "mnist", Dir: "identity/mnist",
		Executed: "identity.ipynb", HTML: "identity.html", Wall: 90 * time.Second}
	collect(&ok, run)
	bad := result{Notebook: "denoiser", Dataset: "mnist", Dir: "denoiser/mnist",
		Err: errors.New("boom")}
	path, err := index{Size: "quick", Results: []result{ok, bad},
		Skipped: []skip{{"cifar10", "not in the data cache"}}}.write(dir)
	if err != nil {
		t.Fatal(err)
	}
	page, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`href="identity/mnist/identity.html"`,
		`src="identity/mnist/identity.gif"`, `href="identity/mnist/loss.png"`,
		`href="identity/mnist/loss.html"`, `href="identity/mnist/metrics.json"`,
		"PSNR 30.50 dB, SSIM 0.950", "failed: boom", "cifar10", "not in the data cache"} {
		if !strings.Contains(string(page), want) {
			t.Errorf("index lacks %s", want)
		}
	}
	if strings.Contains(string(page), "checkpoints") {
		t.Errorf("index links checkpoint files")
	}
}
