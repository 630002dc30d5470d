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

func TestTableShowsRatesRatiosAndEpochs(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"dlexp.jsonl": `{"framework":"dlexp","model":"unet","backend":"xla:cuda","batch":256,` +
			`"shape":[28,28,1],"steps":50,"compile_s":3.2,"step_ms":2,"images_per_s":128000,"loss":0.01}
{"framework":"dlexp","model":"unet","backend":"xla:cuda","batch":256,"shape":[28,28,1],` +
			`"steps":5850,"compile_s":3.1,"images_per_s":40000,"loss":0.009,"epochs":25,` +
			`"wall_s":37.4,"data":"MNIST cache"}
`,
		"jax.jsonl": `{"framework":"jax","model":"unet","backend":"gpu","batch":256,"shape":[28,28,1],` +
			`"steps":50,"compile_s":1.5,"step_ms":1,"images_per_s":256000,"loss":0.01}

{"framework":"jax","model":"fcdensenet","backend":"gpu","batch":4,"shape":[128,256,4],` +
			`"steps":20,"compile_s":20,"step_ms":40,"images_per_s":100,"loss":2.9}
`,
		"torch.jsonl": `{"framework":"pytorch","model":"unet","backend":"cuda","batch":256,` +
			`"shape":[28,28,1],"steps":50,"compile_s":0.5,"step_ms":4,"images_per_s":64000,"loss":0.01}
`,
	}
	var paths []string
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	var out, errOut bytes.Buffer
	if code := run(append([]string{"table"}, paths...), &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	table := out.String()
	t.Logf("\n%s", table)
	for _, want := range []string{
		"dlexp img/s", "JAX img/s", "PyTorch img/s", "dlexp/JAX", "dlexp/PyTorch",
		"28x28x1", "128000", "256000", "64000", "0.50x", "2.00x",
		"128x256x4", "3.2 / 1.5 / 0.5", "- / 20.0 / -",
		"dlexp on xla:cuda", "JAX on gpu", "PyTorch on cuda",
		"25 epochs of 234 steps x 256 images (MNIST cache) on xla:cuda: 37.4 s wall",
	} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q", want)
		}
	}
}

func TestTableRejectsBrokenLines(t *testing.T) {
	p := filepath.Join(t.TempDir(), "bad.jsonl")
	if err := os.WriteFile(p, []byte("{\"framework\":\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if code := run([]string{"table", p}, &out, &errOut); code == 0 ||
		!strings.Contains(errOut.String(), "bad.jsonl:1") {
		t.Fatalf("exit %d, stderr %q", code, errOut.String())
	}
}

func TestEnvPrintsChoiceAsComment(t *testing.T) {
	t.Setenv("GOMLX_BACKEND", "cpu")
	var out, errOut bytes.Buffer
	if code := run([]string{"env"}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if got := out.String(); got != "# backend: cpu (GOMLX_BACKEND=cpu)\n" {
		t.Fatalf("env printed %q", got)
	}
}

func TestShellQuoteSurvivesQuotes(t *testing.T) {
	if got := shellQuote("a b'c"); got != `'a b'\''c'` {
		t.Fatalf("got %s", got)
	}
}

func TestCheckTrainsTheDenoiserOnTinyShapes(t *testing.T) {
	t.Setenv("GOMLX_BACKEND", "cpu")
	var out, errOut bytes.Buffer
	if code := run([]string{"check", "-models", "unet"}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("want a step line and an epoch line, got %q", out.String())
	}
	for _, line := range lines {
		var r result
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatal(err)
		}
		if r.Framework != "dlexp" || r.Model != "unet" || r.Backend != "cpu" || r.Loss <= 0 ||
			r.ImagesPerS <= 0 {
			t.Errorf("result %+v", r)
		}
	}
}

func TestRequireGPUFailsOnCPU(t *testing.T) {
	t.Setenv("GOMLX_BACKEND", "cpu")
	var out, errOut bytes.Buffer
	code := run([]string{"run", "-require-gpu", "-models", "unet"}, &out, &errOut)
	if code == 0 || !strings.Contains(errOut.String(), "no GPU backend") {
		t.Fatalf("exit %d, stderr %q", code, errOut.String())
	}
}

func TestUnknownModelIsAnError(t *testing.T) {
	t.Setenv("GOMLX_BACKEND", "cpu")
	var out, errOut bytes.Buffer
	code := run([]string{"check", "-models", "resnet"}, &out, &errOut)
	if code == 0 || !strings.Contains(errOut.String(), `unknown model "resnet"`) {
		t.Fatalf("exit %d, stderr %q", code, errOut.String())
	}
}

func TestGPUScriptDryRunPassesWithoutGPU(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the command and trains tiny models")
	}
	if _, err := os.Stat("/dev/nvidia0"); err == nil {
		t.Skip("a GPU is present: the dry run would not be the one without a GPU")
	}
	out := t.TempDir()
	cmd := exec.Command("bash", "../gpu.sh", "--check", "--models", "unet")
	cmd.Env = append(os.Environ(), "BENCH_OUT="+out, "GOMLX_BACKEND=cpu")
	got, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("gpu.sh --check: %v\n%s", err, got)
	}
	for _, want := range []string{"no NVIDIA GPU found", "dlexp img/s"} {
		if !strings.Contains(string(got), want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	if _, err := os.Stat(filepath.Join(out, "dlexp.jsonl")); err != nil {
		t.Error(err)
	}
}
