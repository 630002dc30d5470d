package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/dlexp/dlexp/kernel/modproxy"
)

// doctor prints what a notebook on this machine gets: tool versions, the kernelspec, the
// backend and why, GPU and PJRT plugins found, and the data cache folder.
func doctor(w io.Writer, src string) error {
	l, err := newLayout()
	if err != nil {
		return err
	}
	checkout, checkoutErr := findCheckout(src)
	goenv, err := goEnv("GOPROXY", "GONOSUMDB", "GOMODCACHE", "GOROOT", "GOVERSION", "GOCACHE")
	if err != nil {
		return err
	}
	line := func(what, format string, args ...any) {
		fmt.Fprintf(w, "%-12s %s\n", what+":", fmt.Sprintf(format, args...))
	}

	goBin, _ := exec.LookPath("go")
	line("go", "%s (%s)", goenv["GOVERSION"], goBin)
	if checkoutErr != nil {
		line("checkout", "none found (%v)", checkoutErr)
	} else {
		line("checkout", "%s", checkout)
		if tools, err := kernelTools(checkout); err == nil {
			for _, t := range tools {
				line(t.Name, "%s", toolStatus(t, filepath.Join(l.Bin, t.Name)))
			}
		}
	}
	line("jupyter", "%s", jupyterVersions())
	line("kernelspec", "%s", kernelSpecStatus(l))
	if v, ok := modproxy.Latest(l.Proxy, modulePath); ok {
		fresh := ""
		if checkoutErr == nil {
			if _, current, err := modproxy.UpToDate(l.Proxy, checkout); err == nil && !current {
				fresh = "; older than the checkout, run install to serve the current code"
			}
		}
		line("zoo", "%s@%s served from %s%s", modulePath, v, tilde(l.Proxy), fresh)
	} else {
		line("zoo", "no snapshot yet (run `go run ./kernel install`)")
	}
	if v := echartsVersion(l); v != "" {
		line("echarts", "%s (%s)", v, tilde(l.EChartsJS))
	} else {
		line("echarts", "not installed: charts need internet to load ECharts")
	}

	probe := probeResult{}
	if checkoutErr == nil {
		probe = runProbe(checkout, kernelEnv(l, goenv))
	}
	switch {
	case probe.err != nil:
		line("backend", "cpu (default): the probe program failed: %v", probe.err)
	case probe.backend == "":
		line("backend", "cpu (default): the checkout has no mlx/backend package")
	default:
		line("backend", "%s", probe.backend)
	}
	line("gpu", "%s", gpuStatus())
	line("pjrt", "%s", pluginStatus(probe.plugin))
	line("data cache", "%s", dataCacheStatus(probe.dataDir))
	return nil
}

func toolStatus(t tool, bin string) string {
	got := t.installedVersion(bin)
	switch {
	case got == "":
		return "not installed (want " + t.Version + ")"
	case got != t.Version:
		return fmt.Sprintf("%s at %s, want %s (run install)", got, tilde(bin), t.Version)
	}
	return fmt.Sprintf("%s (%s)", got, tilde(bin))
}

// jupyterCommand returns the command line that runs jupyter: the one on PATH, else the
// system Python's module.
func jupyterCommand() []string {
	if p, err := exec.LookPath("jupyter"); err == nil {
		return []string{p}
	}
	if _, err := os.Stat("/usr/bin/python3"); err == nil {
		return []string{"/usr/bin/python3", "-m", "jupyter"}
	}
	return nil
}

// jupyterVersions returns the versions of the Jupyter pieces that run notebooks.
func jupyterVersions() string {
	argv := jupyterCommand()
	if argv == nil {
		return "not found"
	}
	cmd := exec.Command(argv[0], append(argv[1:], "--version")...)
	out, err := cmd.Output()
	if err != nil {
		return fmt.Sprintf("%s fails: %v", strings.Join(argv, " "), err)
	}
	wanted := []string{"jupyter_core", "jupyter_client", "notebook", "jupyterlab", "nbconvert",
		"nbclient"}
	var found []string
	for _, l := range strings.Split(string(out), "\n") {
		name, version, ok := strings.Cut(l, ":")
		name, version = strings.TrimSpace(name), strings.TrimSpace(version)
		if ok && slices.Contains(wanted, name) && version != "not installed" {
			found = append(found, name+" "+version)
		}
	}
	return fmt.Sprintf("%s (%s)", strings.Join(found, ", "), strings.Join(argv, " "))
}

func kernelSpecStatus(l layout) string {
	spec, err := readKernelSpec(l.KernelDir)
	if err != nil {
		return "not installed (run `go run ./kernel install`)"
	}
	if len(spec.Argv) == 0 {
		return fmt.Sprintf("%s has no argv", tilde(l.KernelDir))
	}
	if _, err := os.Stat(spec.Argv[0]); err != nil {
		return fmt.Sprintf("%s runs %s, which is missing", tilde(l.KernelDir), spec.Argv[0])
	}
	return fmt.Sprintf("%s %q in %s", kernelName, spec.DisplayName, tilde(l.KernelDir))
}

// probeResult is what the probe program printed.
type probeResult struct {
	backend string // backend name and reason
	plugin  string // PJRT plugin file of the chosen backend
	dataDir string // data cache folder
	err     error
}

// probeProgram prints, one per line, what the zoo decides on this machine.
const probeProgram = `package main

import (
	"fmt"
	"os"

	"github.com/dlexp/dlexp/datasets/fetch"
	"github.com/dlexp/dlexp/mlx/backend"
)

func main() {
	c := backend.Choose()
	fmt.Println("backend\t" + c.String())
	fmt.Println("plugin\t" + c.Plugin)
	dir, err := fetch.Dir()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println("data\t" + dir)
}
`

// runProbe builds and runs probeProgram against the live checkout with the kernel's
// environment, so it sees what a notebook sees. With no mlx/backend in the checkout it
// returns an empty result.
func runProbe(checkout string, env map[string]string) probeResult {
	pkgs, err := importablePackages(checkout)
	if err != nil {
		return probeResult{err: err}
	}
	for _, p := range []string{"/mlx/backend", "/datasets/fetch"} {
		if !slices.Contains(pkgs, modulePath+p) {
			return probeResult{}
		}
	}
	dir, err := os.MkdirTemp("", "dlexp-doctor-")
	if err != nil {
		return probeResult{err: err}
	}
	defer os.RemoveAll(dir)
	goMod := fmt.Sprintf("module dlexp_doctor\n\nrequire %s v0.0.0\n\nreplace %s => %s\n",
		modulePath, modulePath, checkout)
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte(goMod), 0o644); err != nil {
		return probeResult{err: err}
	}
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(probeProgram), 0o644); err != nil {
		return probeResult{err: err}
	}
	environ := append(expandEnv(env), "GOWORK=off", "GOFLAGS=-mod=mod")
	var out, stderr bytes.Buffer
	for _, args := range [][]string{{"get"}, {"run", "."}} {
		cmd := exec.Command("go", args...)
		cmd.Dir = dir
		cmd.Env = environ
		out.Reset()
		stderr.Reset()
		cmd.Stdout, cmd.Stderr = &out, &stderr
		if err := cmd.Run(); err != nil {
			return probeResult{err: fmt.Errorf("go %s: %w: %s", args[0], err,
				strings.TrimSpace(stderr.String()))}
		}
	}
	var r probeResult
	for _, l := range strings.Split(out.String(), "\n") {
		key, value, _ := strings.Cut(l, "\t")
		switch key {
		case "backend":
			r.backend = value
		case "plugin":
			r.plugin = value
		case "data":
			r.dataDir = value
		}
	}
	return r
}

// gpuStatus says whether an NVIDIA GPU shows: nvidia-smi's list, else device files.
func gpuStatus() string {
	devices, _ := filepath.Glob("/dev/nvidia[0-9]*")
	smi, err := exec.LookPath("nvidia-smi")
	if err != nil {
		if len(devices) > 0 {
			return fmt.Sprintf("%d NVIDIA device files (%s), no nvidia-smi on PATH",
				len(devices), strings.Join(devices, " "))
		}
		return "none found (no nvidia-smi on PATH, no /dev/nvidia*)"
	}
	out, err := exec.Command(smi, "--query-gpu=name,driver_version",
		"--format=csv,noheader").Output()
	names := strings.TrimSpace(string(out))
	if err != nil || names == "" {
		return fmt.Sprintf("nvidia-smi found but lists no GPU (%d device files)", len(devices))
	}
	return strings.ReplaceAll(names, "\n", "; ") + " (nvidia-smi)"
}

// pluginStatus lists the PJRT plugins in the usual folders, and the one chosen.
func pluginStatus(chosen string) string {
	found := findPlugins()
	if chosen != "" && !slices.Contains(found, chosen) {
		found = append([]string{chosen}, found...)
	}
	if len(found) == 0 {
		return "none found (PJRT_PLUGIN_LIBRARY_PATH, ~/.local/lib/go-xla, " +
			"/usr/local/lib/go-xla, Python jax_plugins)"
	}
	msg := strings.Join(found, ", ")
	if chosen != "" {
		msg += "; in use: " + chosen
	}
	return msg
}

// findPlugins looks for PJRT plugin files where go-xla and JAX install them.
func findPlugins() []string {
	var dirs []string
	if env := os.Getenv("PJRT_PLUGIN_LIBRARY_PATH"); env != "" {
		dirs = filepath.SplitList(env)
	} else {
		if h, err := os.UserHomeDir(); err == nil {
			dirs = append(dirs, filepath.Join(h, ".local", "lib", "go-xla"))
		}
		dirs = append(dirs, "/usr/local/lib/go-xla", "/usr/local/lib/go-xla/nvidia",
			"/usr/local/lib/gomlx/pjrt")
	}
	var patterns []string
	for _, d := range dirs {
		patterns = append(patterns, filepath.Join(d, "pjrt_c_api_*_plugin.so"),
			filepath.Join(d, "xla_cuda_plugin.so"))
	}
	h, _ := os.UserHomeDir()
	for _, site := range []string{
		"/usr/lib/python3*/*-packages", "/usr/local/lib/python3*/*-packages",
		filepath.Join(h, ".local/lib/python3*/site-packages"),
	} {
		patterns = append(patterns, filepath.Join(site, "jax_plugins", "*", "xla_cuda_plugin.so"))
	}
	var found []string
	for _, p := range patterns {
		m, _ := filepath.Glob(p)
		for _, f := range m {
			if !slices.Contains(found, f) {
				found = append(found, f)
			}
		}
	}
	return found
}

// dataCacheStatus returns the data cache folder: as the zoo reported it, else computed the
// same way ($DLEXP_DATA, else dlexp under the user cache folder).
func dataCacheStatus(fromProbe string) string {
	dir, how := fromProbe, ""
	if dir == "" {
		if d := os.Getenv("DLEXP_DATA"); d != "" {
			dir = d
		} else if base, err := os.UserCacheDir(); err == nil {
			dir = filepath.Join(base, "dlexp")
		} else {
			return "unknown: no user cache folder; set DLEXP_DATA"
		}
	}
	if os.Getenv("DLEXP_DATA") != "" {
		how = "from DLEXP_DATA"
	} else {
		how = "default; set DLEXP_DATA to move it"
	}
	if _, err := os.Stat(dir); err != nil {
		how += ", not created yet"
	}
	return fmt.Sprintf("%s (%s)", dir, how)
}
