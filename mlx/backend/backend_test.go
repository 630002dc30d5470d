package backend

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/gomlx/gomlx/backends/simplego"

	"github.com/dlexp/dlexp/mlx/logs"
)

func TestEnvAddsLibraryFoldersAndCUDAFolder(t *testing.T) {
	t.Setenv("LD_LIBRARY_PATH", "/usr/lib/extra:/site/nvidia/cudnn/lib")
	t.Setenv("XLA_FLAGS", "--xla_gpu_autotune_level=0")
	t.Setenv(cudaChecksEnv, "")
	c := Choice{
		Config:      "xla:/site/jax_plugins/xla_cuda12/xla_cuda_plugin.so",
		Plugin:      "/site/jax_plugins/xla_cuda12/xla_cuda_plugin.so",
		GPU:         true,
		LibraryDirs: []string{"/site/nvidia/cublas/lib", "/site/nvidia/cudnn/lib"},
		CUDADir:     "/site/nvidia/cuda_nvcc",
	}
	got := strings.Join(c.Env(), "\n")
	want := strings.Join([]string{
		"LD_LIBRARY_PATH=/site/nvidia/cublas/lib:/usr/lib/extra:/site/nvidia/cudnn/lib",
		"XLA_FLAGS=--xla_gpu_autotune_level=0 --xla_gpu_cuda_data_dir=/site/nvidia/cuda_nvcc",
		"GOPJRT_CUDA_CHECKS=0",
	}, "\n")
	if got != want {
		t.Fatalf("Env() =\n%s\nwant\n%s", got, want)
	}
}

func TestEnvLeavesSettingsAlreadyThere(t *testing.T) {
	t.Setenv("LD_LIBRARY_PATH", "/n/cublas/lib")
	t.Setenv("XLA_FLAGS", "--xla_gpu_cuda_data_dir=/mine")
	t.Setenv(cudaChecksEnv, "1")
	c := Choice{GPU: true, LibraryDirs: []string{"/n/cublas/lib"}, CUDADir: "/n/cuda_nvcc"}
	if env := c.Env(); len(env) != 0 {
		t.Fatalf("Env() = %q, want nothing", env)
	}
	if env := (Choice{Config: "cpu"}).Env(); len(env) != 0 {
		t.Fatalf("Env() of cpu = %q, want nothing", env)
	}
}

func TestNameOfEachKindOfChoice(t *testing.T) {
	for _, tc := range []struct {
		c    Choice
		want string
	}{
		{Choice{Config: "cpu"}, "cpu"},
		{Choice{Config: "cpu:ops_sequential"}, "cpu:ops_sequential"},
		{Choice{Config: "xla:/a/xla_cuda_plugin.so", GPU: true}, "xla:cuda"},
		{Choice{Config: "xla:cuda"}, "xla:cuda"},
		{Choice{Config: "xla:/a/pjrt_c_api_cpu_plugin.so,shared_buffers"}, "xla:cpu"},
		{Choice{Config: "xla:cpu"}, "xla:cpu"},
		{Choice{Config: "xla:tpu"}, "xla:tpu"},
	} {
		if got := tc.c.Name(); got != tc.want {
			t.Errorf("Name() of %q = %q, want %q", tc.c.Config, got, tc.want)
		}
	}
}

func TestNewForMakesTheNamedBackend(t *testing.T) {
	for _, config := range []string{"cpu", "go"} {
		b, err := NewFor(Choice{Config: config})
		if err != nil {
			t.Fatalf("NewFor(%q): %v", config, err)
		}
		b.Finalize()
	}
}

func TestNewUsesEnvironmentVariable(t *testing.T) {
	t.Setenv("GOMLX_BACKEND", "go")
	if c := Choose(); c.Config != "go" {
		t.Fatalf("Choose() = %+v", c)
	}
	b, err := New()
	if err != nil {
		t.Fatal(err)
	}
	defer b.Finalize()
	if !strings.Contains(strings.ToLower(b.Name()), "go") {
		t.Errorf("backend %q is not SimpleGo", b.Name())
	}
}

func TestChoiceOfRemembersTheChoice(t *testing.T) {
	c := Choice{Config: "go", Reason: "asked for"}
	b, err := NewFor(c)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Finalize()
	if got, ok := ChoiceOf(b); !ok || got.String() != "go (asked for)" {
		t.Fatalf("ChoiceOf = %+v, %v", got, ok)
	}
	if _, ok := ChoiceOf(nil); ok {
		t.Error("ChoiceOf(nil) reported a choice")
	}
}

func TestNewForUnknownBackendIsAnError(t *testing.T) {
	_, err := NewFor(Choice{Config: "nosuch:x", fromEnv: true})
	if err == nil || !strings.Contains(err.Error(), `"nosuch" is not compiled into this program`) {
		t.Fatalf("err = %v", err)
	}
}

// captureWarnings sends the default logger's records to a buffer for the test's duration.
func captureWarnings(t *testing.T) *bytes.Buffer {
	t.Helper()
	var buf bytes.Buffer
	logs.Setup() // New sets the logger up once: let it happen before the capture.
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelWarn})))
	t.Cleanup(func() { slog.SetDefault(old) })
	return &buf
}

func TestNewForFallsBackToCPUWithOneLineWhenPluginFailsToLoad(t *testing.T) {
	dir := t.TempDir()
	plugin := filepath.Join(dir, "xla_cuda_plugin.so")
	if err := os.WriteFile(plugin, []byte(elf), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("XLA_FLAGS", "")
	t.Setenv("LD_LIBRARY_PATH", "")
	logged := captureWarnings(t)
	c := Choice{Config: "xla:" + plugin, Plugin: plugin, GPU: true,
		LibraryDirs: []string{dir + "/nvidia/cublas/lib"}}
	b, err := NewFor(c)
	if err != nil {
		t.Fatalf("NewFor: %v", err)
	}
	defer b.Finalize()
	if b.String() != CPUConfig {
		t.Errorf("backend %q, want the cpu fallback", b.String())
	}
	if got, ok := ChoiceOf(b); !ok || got.Config != CPUConfig ||
		got.String() != "cpu (PJRT plugin "+plugin+" failed to load)" {
		t.Errorf("ChoiceOf = %+v, %v", got, ok)
	}
	line := logged.String()
	t.Logf("fallback line: %s", line)
	if strings.Count(line, "\n") != 1 || !strings.Contains(line, plugin) ||
		!strings.Contains(line, "LD_LIBRARY_PATH="+dir+"/nvidia/cublas/lib") {
		t.Errorf("logged %q, want one line naming %s and the library path", line, plugin)
	}
}

func TestNewForGivesNoFallbackToEnvironmentChoice(t *testing.T) {
	plugin := filepath.Join(t.TempDir(), "pjrt_c_api_cpu_plugin.so")
	if err := os.WriteFile(plugin, []byte(elf), 0o644); err != nil {
		t.Fatal(err)
	}
	logged := captureWarnings(t)
	_, err := NewFor(Choice{Config: "xla:" + plugin, Plugin: plugin, fromEnv: true})
	if err == nil {
		t.Fatal("a broken plugin asked for by GOMLX_BACKEND loaded without error")
	}
	if logged.Len() != 0 {
		t.Errorf("logged %q, want nothing", logged)
	}
}
