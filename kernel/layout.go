package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"

	"golang.org/x/mod/modfile"
)

// modulePath is the module whose packages the kernel makes importable.
const modulePath = "github.com/dlexp/dlexp"

// kernelName and kernelDisplayName name the kernelspec.
const (
	kernelName        = "dlexp"
	kernelDisplayName = "Go (dlexp)"
)

// layout holds where the pieces of an installation live.
type layout struct {
	// Home is DLEXP_HOME; the other paths below are inside it.
	Home      string
	Bin       string // gonb, goimports, gopls
	NPM       string // npm prefix holding ECharts
	EChartsJS string // the ECharts script a notebook inlines
	Proxy     string // GOPROXY file tree with the snapshot of the zoo
	WarmStamp string // records what the build cache was warmed for

	// KernelDir is the kernelspec folder in the user's Jupyter data folder.
	KernelDir string
}

// newLayout returns the layout for the current user and environment.
func newLayout() (layout, error) {
	home := os.Getenv("DLEXP_HOME")
	if home == "" {
		data, err := xdgDataHome()
		if err != nil {
			return layout{}, err
		}
		home = filepath.Join(data, "dlexp")
	}
	home, err := filepath.Abs(home)
	if err != nil {
		return layout{}, fmt.Errorf("kernel: DLEXP_HOME: %w", err)
	}
	jupyter, err := jupyterDataDir()
	if err != nil {
		return layout{}, err
	}
	npm := filepath.Join(home, "npm")
	return layout{
		Home:      home,
		Bin:       filepath.Join(home, "bin"),
		NPM:       npm,
		EChartsJS: filepath.Join(npm, "node_modules", "echarts", "dist", "echarts.min.js"),
		Proxy:     filepath.Join(home, "goproxy"),
		WarmStamp: filepath.Join(home, "warm.stamp"),
		KernelDir: filepath.Join(jupyter, "kernels", kernelName),
	}, nil
}

func xdgDataHome() (string, error) {
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return d, nil
	}
	h, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("kernel: no home folder, set DLEXP_HOME: %w", err)
	}
	return filepath.Join(h, ".local", "share"), nil
}

// jupyterDataDir returns the user's Jupyter data folder, where Jupyter looks for user
// kernelspecs: JUPYTER_DATA_DIR, else the platform's default.
func jupyterDataDir() (string, error) {
	if d := os.Getenv("JUPYTER_DATA_DIR"); d != "" {
		return d, nil
	}
	switch runtime.GOOS {
	case "darwin":
		h, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("kernel: no home folder, set JUPYTER_DATA_DIR: %w", err)
		}
		return filepath.Join(h, "Library", "Jupyter"), nil
	case "windows":
		if d := os.Getenv("APPDATA"); d != "" {
			return filepath.Join(d, "jupyter"), nil
		}
		return "", fmt.Errorf("kernel: APPDATA is not set, set JUPYTER_DATA_DIR")
	}
	data, err := xdgDataHome()
	if err != nil {
		return "", err
	}
	return filepath.Join(data, "jupyter"), nil
}

// findCheckout returns the root of the dlexp checkout: dir if given, else the first folder
// at or above the current one whose go.mod declares the module.
func findCheckout(dir string) (string, error) {
	if dir != "" {
		abs, err := filepath.Abs(dir)
		if err != nil {
			return "", fmt.Errorf("kernel: %w", err)
		}
		if !isCheckout(abs) {
			return "", fmt.Errorf("kernel: %s is not a checkout of %s", abs, modulePath)
		}
		return abs, nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("kernel: %w", err)
	}
	for d := wd; ; d = filepath.Dir(d) {
		if isCheckout(d) {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("kernel: no checkout of %s at or above %s; run from inside "+
				"one or pass -src", modulePath, wd)
		}
	}
}

func isCheckout(dir string) bool {
	data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	return err == nil && modfile.ModulePath(data) == modulePath
}

// goEnv returns the values of the named go environment variables, as `go env` reports them.
// An empty GOPROXY is replaced by the go command's default.
func goEnv(names ...string) (map[string]string, error) {
	vals, err := goEnvIn(os.Environ(), names...)
	if err != nil || vals["GOPROXY"] != "" || !slices.Contains(names, "GOPROXY") {
		return vals, err
	}
	var environ []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GOPROXY=") {
			environ = append(environ, kv)
		}
	}
	def, err := goEnvIn(append(environ, "GOENV=off"), "GOPROXY")
	if err != nil {
		return nil, err
	}
	vals["GOPROXY"] = def["GOPROXY"]
	return vals, nil
}

func goEnvIn(environ []string, names ...string) (map[string]string, error) {
	cmd := exec.Command("go", append([]string{"env", "-json"}, names...)...)
	cmd.Env = append(environ, "GOTOOLCHAIN=local")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("kernel: go env: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	vals := map[string]string{}
	if err := json.Unmarshal(out, &vals); err != nil {
		return nil, fmt.Errorf("kernel: go env: %w", err)
	}
	return vals, nil
}

// tilde shortens paths under the home folder for messages.
func tilde(path string) string {
	h, err := os.UserHomeDir()
	if err != nil || h == "" || h == "/" {
		return path
	}
	if rel, err := filepath.Rel(h, path); err == nil && !strings.HasPrefix(rel, "..") {
		return filepath.Join("~", rel)
	}
	return path
}
