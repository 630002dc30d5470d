// Command gpubench measures how fast dlexp trains its models on the backend chosen for the
// machine (XLA on CUDA where a GPU and a CUDA plugin are found), for bench/gpu.sh to put beside
// the same models in JAX and PyTorch.
//
// Usage:
//
//	gpubench env                  print the backend choice and the shell exports it needs
//	gpubench run [flags]          train each model for a fixed number of steps, and time
//	                              the epochs of the MNIST denoiser
//	gpubench check                the same on tiny shapes, to see that everything builds and
//	                              trains on this machine
//	gpubench table FILE...        print images/s of each framework and the ratios
//
// Results are JSON lines, one per measurement, on standard output or in the -json file.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/dlexp/dlexp/mlx/backend"
	"github.com/dlexp/dlexp/mlx/logs"
)

const usage = `usage: gpubench <command> [flags]

commands:
  env    print the backend choice (a comment) and the exports its plugin needs
  run    time training steps of each model and epochs of the MNIST denoiser
  check  run everything on tiny shapes: a quick proof that it builds and trains
  table  print the table of result files (JSON lines of gpubench and the peer scripts)
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// options are the flags of run and check.
type options struct {
	models     []string // model names, in order
	steps      int      // timed steps per model
	warmup     int      // steps before timing, the first one compiles
	epochs     int      // MNIST denoiser epochs timed; 0 skips
	mnist      string   // "auto", "synthetic" or a folder holding the IDX files
	jsonPath   string   // where results go; "" is standard output
	requireGPU bool     // fail unless the backend runs on a GPU
	tiny       bool     // tiny shapes (check)
}

// run executes a command line and returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	logs.Setup()
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	cmd, rest := args[0], args[1:]
	fs := flag.NewFlagSet("gpubench "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	models := fs.String("models", "unet,fcdensenet", "comma separated models to time")
	steps := fs.Int("steps", 50, "timed training steps per model")
	warmup := fs.Int("warmup", 3, "untimed steps first; the first one compiles")
	epochs := fs.Int("epochs", 25, "MNIST denoiser epochs to time (0: none)")
	mnistSrc := fs.String("mnist", "auto",
		`MNIST for the epochs: "auto" (data cache or Go module), "synthetic", or a folder of IDX files`)
	jsonPath := fs.String("json", "", "write the JSON lines to this file instead of standard output")
	requireGPU := fs.Bool("require-gpu", false, "fail unless the chosen backend runs on a GPU")
	if err := fs.Parse(rest); err != nil {
		return 2
	}
	opts := options{
		models: splitList(*models), steps: *steps, warmup: *warmup, epochs: *epochs,
		mnist: *mnistSrc, jsonPath: *jsonPath, requireGPU: *requireGPU,
	}

	var err error
	switch cmd {
	case "env":
		err = printEnv(stdout)
	case "run":
		err = bench(stdout, stderr, opts)
	case "check":
		opts.tiny, opts.steps, opts.warmup, opts.epochs, opts.mnist = true, 1, 1, 1, "synthetic"
		err = bench(stdout, stderr, opts)
	case "table":
		err = printTable(stdout, fs.Args())
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "gpubench: unknown command %q\n%s", cmd, usage)
		return 2
	}
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	return 0
}

// printEnv writes the backend choice as a shell comment and its settings as exports.
func printEnv(w io.Writer) error {
	c := backend.Choose()
	fmt.Fprintf(w, "# backend: %s\n", c)
	for _, kv := range c.Env() {
		name, value, _ := strings.Cut(kv, "=")
		fmt.Fprintf(w, "export %s=%s\n", name, shellQuote(value))
	}
	return nil
}

// bench times every model asked for, then the MNIST epochs, writing one JSON line each.
func bench(stdout, stderr io.Writer, opts options) error {
	out := stdout
	if opts.jsonPath != "" {
		f, err := os.Create(opts.jsonPath)
		if err != nil {
			return fmt.Errorf("gpubench: %w", err)
		}
		defer f.Close()
		out = f
	}
	enc := json.NewEncoder(out)

	choice := backend.Choose()
	fmt.Fprintf(stderr, "gpubench: backend %s\n", choice)
	if opts.requireGPU && !choice.GPU {
		return fmt.Errorf("gpubench: no GPU backend (%s)", choice)
	}
	b, err := backend.NewFor(choice)
	if err != nil {
		return fmt.Errorf("gpubench: %w", err)
	}
	defer b.Finalize()
	name := choice.Name()
	if choice.Plugin != "" && b.Name() != "xla" {
		// The plugin failed to load and NewFor fell back (it logged why).
		if opts.requireGPU {
			return fmt.Errorf("gpubench: plugin %s failed to load", choice.Plugin)
		}
		name = backend.CPUConfig
	}

	for _, m := range opts.models {
		spec, err := lookupModel(m, opts.tiny)
		if err != nil {
			return err
		}
		res, err := timeSteps(b, spec, opts.warmup, opts.steps)
		if err != nil {
			return fmt.Errorf("gpubench: %s: %w", m, err)
		}
		res.Backend = name
		if err := enc.Encode(res); err != nil {
			return fmt.Errorf("gpubench: %w", err)
		}
	}
	if opts.epochs > 0 {
		res, err := timeEpochs(b, opts)
		if err != nil {
			return fmt.Errorf("gpubench: epochs: %w", err)
		}
		res.Backend = name
		if err := enc.Encode(res); err != nil {
			return fmt.Errorf("gpubench: %w", err)
		}
	}
	return nil
}

// result is one measurement, as a JSON line. The fields match those the peer scripts write.
type result struct {
	Framework  string  `json:"framework"`
	Model      string  `json:"model"`
	Backend    string  `json:"backend"`
	Batch      int     `json:"batch"`
	Shape      []int   `json:"shape"` // height, width, channels of one image
	Steps      int     `json:"steps"`
	CompileS   float64 `json:"compile_s"`
	StepMS     float64 `json:"step_ms,omitempty"`
	ImagesPerS float64 `json:"images_per_s,omitempty"`
	Loss       float64 `json:"loss"`

	// Epoch timing only.
	Epochs int     `json:"epochs,omitempty"`
	WallS  float64 `json:"wall_s,omitempty"`
	Data   string  `json:"data,omitempty"`
}

// splitList splits a comma separated list, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// shellQuote quotes a value for a POSIX shell.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
