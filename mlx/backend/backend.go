// Package backend chooses the GoMLX backend dlexp trains on and creates it.
//
// The order is: the GOMLX_BACKEND environment variable when set; else XLA on CUDA when a CUDA
// PJRT plugin and an NVIDIA GPU are both found on the machine; else XLA on the CPU when its
// plugin is installed; else "cpu", the project's pure-Go backend. Plugins are only looked for
// in local folders: nothing is ever downloaded.
//
// The XLA backend needs cgo. A program built with CGO_ENABLED=0 (or the build tag noxla) has
// no XLA backend, and Choose then says so in its reason and picks "cpu".
package backend

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"

	"github.com/gomlx/gomlx/backends"

	"github.com/dlexp/dlexp/mlx/backend/plugins"
	// The project's CPU backend, the fallback, registered as "cpu".
	_ "github.com/dlexp/dlexp/mlx/cpubackend"
	"github.com/dlexp/dlexp/mlx/logs"
)

// CPUConfig is the configuration of the project's pure-Go CPU backend.
const CPUConfig = "cpu"

// xlaCompiled is set when the XLA backend is linked into the program (cgo builds).
var xlaCompiled bool

// Choice is a backend chosen for this machine, with the files it needs.
type Choice struct {
	// Config is the GoMLX backend configuration, in the form GOMLX_BACKEND takes
	// ("cpu", "xla:/path/to/xla_cuda_plugin.so", ...).
	Config string
	// Reason says in one line why this backend was chosen.
	Reason string

	// Plugin is the PJRT plugin file the xla backend loads, "" for other backends.
	Plugin string
	// GPU is true when the backend computes on an NVIDIA GPU.
	GPU bool
	// LibraryDirs are the NVIDIA library folders installed beside a CUDA plugin, to put on
	// LD_LIBRARY_PATH when the plugin cannot find them by itself.
	LibraryDirs []string
	// CUDADir is the CUDA folder holding ptxas and libdevice, for XLA's --xla_gpu_cuda_data_dir.
	CUDADir string

	// fromEnv is set when Config comes from GOMLX_BACKEND: then no fallback is taken.
	fromEnv bool
}

// Name returns the short name of the chosen backend: "xla:cuda", "xla:cpu", "cpu", or the
// configuration as given for others.
func (c Choice) Name() string {
	name, conf, _ := strings.Cut(c.Config, ":")
	if !isXLA(name) {
		return c.Config
	}
	plug, _, _ := strings.Cut(conf, ",")
	switch {
	case c.GPU || isCUDAFile(plug):
		return "xla:cuda"
	case plug == "cpu" || slices.Contains(plugins.CPUNames, filepath.Base(plug)):
		return "xla:cpu"
	}
	return c.Config
}

// String returns the backend name and the reason it was chosen, for a log line.
func (c Choice) String() string {
	if c.Reason == "" {
		return c.Name()
	}
	return c.Name() + " (" + c.Reason + ")"
}

// Env returns the environment settings, as NAME=value, that a process loading the chosen
// plugin needs and does not have yet: the NVIDIA library folders on LD_LIBRARY_PATH, the CUDA
// folder in XLA_FLAGS. LD_LIBRARY_PATH only takes effect in a process started with it, so
// scripts export these before starting a program; New sets the others itself.
func (c Choice) Env() []string {
	var env []string
	if len(c.LibraryDirs) > 0 {
		have := strings.Split(os.Getenv("LD_LIBRARY_PATH"), ":")
		var add []string
		for _, d := range c.LibraryDirs {
			if !slices.Contains(have, d) {
				add = append(add, d)
			}
		}
		if len(add) > 0 {
			env = append(env, "LD_LIBRARY_PATH="+joinPath(append(add, have...)))
		}
	}
	if flags, ok := c.xlaFlags(); ok {
		env = append(env, "XLA_FLAGS="+flags)
	}
	if c.isCUDA() && os.Getenv(cudaChecksEnv) == "" {
		env = append(env, cudaChecksEnv+"=0")
	}
	return env
}

// cudaChecksEnv turns off go-xla's own guess of the NVIDIA folders when set to 0: this package
// finds them itself, and that guess can set a CUDA folder that does not exist.
const cudaChecksEnv = "GOPJRT_CUDA_CHECKS"

// xlaFlags returns XLA_FLAGS with the CUDA folder added, and whether that changes it.
func (c Choice) xlaFlags() (string, bool) {
	flags := os.Getenv("XLA_FLAGS")
	if c.CUDADir == "" || strings.Contains(flags, "--xla_gpu_cuda_data_dir") {
		return flags, false
	}
	return strings.TrimSpace(flags + " --xla_gpu_cuda_data_dir=" + c.CUDADir), true
}

// isCUDA reports whether the choice loads a CUDA plugin.
func (c Choice) isCUDA() bool {
	return c.GPU || isCUDAFile(c.Plugin)
}

// Choose picks the backend for this machine without loading anything. See the package
// documentation for the order.
func Choose() Choice {
	return hostSystem().choose(xlaCompiled)
}

// New creates the backend Choose picks. When a plugin was found but fails to load, New logs one
// warning naming the file and returns the "cpu" backend instead; a backend named by
// GOMLX_BACKEND gets no fallback: its failure is returned.
func New() (backends.Backend, error) {
	return NewFor(Choose())
}

// NewFor creates the backend of a choice, with the fallback rules of New.
func NewFor(c Choice) (backends.Backend, error) {
	if c.Config == "" {
		return nil, fmt.Errorf("backend: empty configuration")
	}
	if c.isCUDA() {
		prepareCUDA(c)
	}
	b, err := create(c.Config)
	if err == nil {
		remember(b, c)
		return b, nil
	}
	if c.fromEnv || c.Plugin == "" || c.Config == CPUConfig {
		return nil, err
	}
	logs.Setup()
	slog.Warn(fallbackLine(c, err))
	if b, err = create(CPUConfig); err != nil {
		return nil, err
	}
	remember(b, Choice{Config: CPUConfig, Reason: "PJRT plugin " + c.Plugin + " failed to load"})
	return b, nil
}

// made remembers the choice behind each backend New and NewFor created.
var made sync.Map

// remember records the choice of a backend; backends of a type that cannot be a map key (none
// of GoMLX's) are not recorded.
func remember(b backends.Backend, c Choice) {
	if reflect.TypeOf(b).Comparable() {
		made.Store(b, c)
	}
}

// ChoiceOf returns the choice a backend made by New or NewFor came from (after a fallback,
// the "cpu" choice saying why), so that a log line can say which backend runs and why.
// It reports false for backends made otherwise.
func ChoiceOf(b backends.Backend) (Choice, bool) {
	if b == nil {
		return Choice{}, false
	}
	if !reflect.TypeOf(b).Comparable() {
		return Choice{}, false
	}
	c, ok := made.Load(b)
	if !ok {
		return Choice{}, false
	}
	return c.(Choice), true
}

// fallbackLine is the one line logged when a plugin found fails to load.
func fallbackLine(c Choice, err error) string {
	msg := strings.TrimPrefix(err.Error(), fmt.Sprintf("backend: creating %q: ", c.Config))
	msg = strings.Join(strings.Fields(msg), " ")
	line := fmt.Sprintf("backend: PJRT plugin %s failed to load, using %s instead: %s",
		c.Plugin, CPUConfig, msg)
	for _, kv := range c.Env() {
		if strings.HasPrefix(kv, "LD_LIBRARY_PATH=") {
			line += " (start the program with " + kv + ")"
		}
	}
	return line
}

// prepareCUDA sets, for this process, the variables the CUDA plugin reads when it loads.
func prepareCUDA(c Choice) {
	if flags, ok := c.xlaFlags(); ok {
		_ = os.Setenv("XLA_FLAGS", flags)
	}
	if os.Getenv(cudaChecksEnv) == "" {
		_ = os.Setenv(cudaChecksEnv, "0")
	}
}

// create makes a backend from a configuration, turning GoMLX's panics into errors.
func create(config string) (b backends.Backend, err error) {
	name, _, _ := strings.Cut(config, ":")
	if !slices.Contains(backends.List(), name) {
		hint := ""
		if isXLA(name) {
			hint = " (the xla backend needs a program built with cgo)"
		}
		return nil, fmt.Errorf("backend: %q is not compiled into this program%s; have %s",
			name, hint, strings.Join(sorted(backends.List()), ", "))
	}
	defer func() {
		if r := recover(); r != nil {
			b, err = nil, fmt.Errorf("backend: creating %q: %v", config, r)
		}
	}()
	b, err = backends.NewWithConfig(config)
	if err != nil {
		return nil, fmt.Errorf("backend: creating %q: %w", config, err)
	}
	return b, nil
}

// choose applies the order of the package documentation to a machine.
func (s system) choose(withXLA bool) Choice {
	if cfg, ok := s.lookup(backends.ConfigEnvVar); ok && strings.TrimSpace(cfg) != "" {
		return s.fromEnv(strings.TrimSpace(cfg))
	}

	var notes []string
	g := s.findGPU()
	cuda := s.findCUDAPlugins()
	switch {
	case len(cuda) > 0 && g.device != "" && !g.hidden:
		p := pickCUDA(cuda, g.driver)
		if withXLA {
			return cudaChoice("xla", p, "", fmt.Sprintf("CUDA plugin %s and GPU %s found",
				p.file, g.device), false)
		}
		notes = append(notes, fmt.Sprintf(
			"CUDA plugin %s and a GPU found, but this program was built without cgo", p.file))
	case len(cuda) > 0 && g.device != "":
		notes = append(notes, fmt.Sprintf(
			"CUDA plugin %s found, but CUDA_VISIBLE_DEVICES hides the GPUs", cuda[0].file))
	case len(cuda) > 0:
		notes = append(notes, fmt.Sprintf("CUDA plugin %s found, but no GPU", cuda[0].file))
	case g.device != "":
		notes = append(notes, fmt.Sprintf("GPU %s found, but no CUDA PJRT plugin", g.device))
	default:
		notes = append(notes, "no CUDA PJRT plugin or GPU found")
	}

	if p, ok := s.findCPUPlugin(); ok {
		if withXLA {
			notes = append(notes, "XLA CPU plugin "+p.file+" found")
			return Choice{
				Config: "xla:" + p.file + ",shared_buffers",
				Reason: strings.Join(notes, "; "),
				Plugin: p.file,
			}
		}
		notes = append(notes, "XLA CPU plugin "+p.file+" unused without cgo")
	}
	return Choice{Config: CPUConfig, Reason: strings.Join(notes, "; ")}
}

// fromEnv takes the configuration given by GOMLX_BACKEND. A plugin named "cuda" or "cpu" for
// the xla backend is resolved to a file found locally, so that JAX's CUDA plugin, which
// GoMLX does not find by name, can be asked for as "xla:cuda".
func (s system) fromEnv(cfg string) Choice {
	c := Choice{Config: cfg, Reason: backends.ConfigEnvVar + "=" + cfg, fromEnv: true}
	name, conf, _ := strings.Cut(cfg, ":")
	if !isXLA(name) {
		return c
	}
	plug, opts, _ := strings.Cut(conf, ",")
	if opts != "" {
		opts = "," + opts
	}
	switch {
	case plug == "cuda":
		if found := s.findCUDAPlugins(); len(found) > 0 {
			p := pickCUDA(found, s.findGPU().driver)
			return cudaChoice(name, p, opts, c.Reason+", plugin "+p.file, true)
		}
		c.GPU = true
	case plug == "cpu":
		if p, ok := s.findCPUPlugin(); ok {
			if !strings.Contains(opts, "shared_buffers") {
				opts += ",shared_buffers"
			}
			c.Config, c.Plugin = name+":"+p.file+opts, p.file
			c.Reason += ", plugin " + p.file
		}
	case filepath.IsAbs(plug):
		c.Plugin = plug
		if isCUDAFile(plug) {
			p := s.describeCUDA(plug, 0)
			c.GPU, c.LibraryDirs, c.CUDADir = true, p.libDirs, p.dataDir
		}
	}
	return c
}

// cudaChoice is the choice of a CUDA plugin file for the named xla backend alias.
func cudaChoice(name string, p plugin, opts, reason string, fromEnv bool) Choice {
	return Choice{
		Config:      name + ":" + p.file + opts,
		Reason:      reason,
		Plugin:      p.file,
		GPU:         true,
		LibraryDirs: p.libDirs,
		CUDADir:     p.dataDir,
		fromEnv:     fromEnv,
	}
}

// isXLA reports whether a backend name is one of the xla backend's aliases.
func isXLA(name string) bool {
	switch name {
	case "xla", "stablehlo", "hlo", "shlo":
		return true
	}
	return false
}

// isCUDAFile reports whether a plugin file name is a CUDA plugin's.
func isCUDAFile(file string) bool {
	return file != "" && strings.Contains(strings.ToLower(filepath.Base(file)), "cuda")
}

// joinPath joins folders into a colon separated list, dropping empty ones.
func joinPath(dirs []string) string {
	return strings.Join(slices.DeleteFunc(slices.Clone(dirs), func(d string) bool {
		return d == ""
	}), ":")
}

// sorted returns a sorted copy.
func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}
