package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// kernelSpec is the content of a Jupyter kernel.json.
type kernelSpec struct {
	Argv          []string          `json:"argv"`
	DisplayName   string            `json:"display_name"`
	Language      string            `json:"language"`
	InterruptMode string            `json:"interrupt_mode"`
	Env           map[string]string `json:"env"`
}

// newKernelSpec returns the kernelspec that runs the installed gonb with the environment
// kernelEnv gives. GoNB's own log lines (one per cell and more) are dropped, errors kept.
func newKernelSpec(l layout, env map[string]string) kernelSpec {
	return kernelSpec{
		Argv: []string{filepath.Join(l.Bin, "gonb"), "--kernel", "{connection_file}",
			"--logtostderr=false", "--stderrthreshold=ERROR", "--log_file=" + os.DevNull},
		DisplayName:   kernelDisplayName,
		Language:      "go",
		InterruptMode: "message",
		Env:           env,
	}
}

// kernelEnv returns the environment the kernel runs with, from the installer's go
// environment goenv (GOPROXY, GONOSUMDB, GOMODCACHE, GOROOT):
//
//   - GOPROXY lists the zoo snapshot, then the local module cache, then the proxies the
//     installer uses, so imports of the zoo and of modules already fetched work offline;
//   - GONOSUMDB keeps the checksum database from being asked about the local snapshot;
//   - GOTOOLCHAIN=local keeps the go command from fetching another toolchain;
//   - DLEXP_ECHARTS_JS points to the ECharts script for offline charts;
//   - PATH puts the kernel's tools and the installer's go first. Jupyter expands ${PATH}.
func kernelEnv(l layout, goenv map[string]string) map[string]string {
	snapshot := fileURL(l.Proxy)
	modCache := fileURL(filepath.Join(goenv["GOMODCACHE"], "cache", "download"))
	proxies := []string{snapshot, modCache}
	for _, p := range strings.Split(goenv["GOPROXY"], ",") {
		if p = strings.TrimSpace(p); p != "" && p != snapshot && p != modCache {
			proxies = append(proxies, p)
		}
	}

	nosum := []string{}
	for _, p := range strings.Split(goenv["GONOSUMDB"], ",") {
		if p = strings.TrimSpace(p); p != "" && p != modulePath {
			nosum = append(nosum, p)
		}
	}
	nosum = append(nosum, modulePath)

	path := l.Bin + string(os.PathListSeparator)
	if goenv["GOROOT"] != "" {
		path += filepath.Join(goenv["GOROOT"], "bin") + string(os.PathListSeparator)
	}
	return map[string]string{
		"GOPROXY":          strings.Join(proxies, ","),
		"GONOSUMDB":        strings.Join(nosum, ","),
		"GOTOOLCHAIN":      "local",
		"DLEXP_ECHARTS_JS": l.EChartsJS,
		"DLEXP_HOME":       l.Home,
		"PATH":             path + "${PATH}",
	}
}

// fileURL returns the file:// URL of a local folder, as GOPROXY wants it.
func fileURL(dir string) string {
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(dir)}
	if !strings.HasPrefix(u.Path, "/") {
		u.Path = "/" + u.Path // Windows drive letters.
	}
	return u.String()
}

// expandEnv returns os.Environ() with env applied over it, expanding $VAR and ${VAR} in the
// values from the current environment the way Jupyter does when it starts the kernel.
func expandEnv(env map[string]string) []string {
	out := os.Environ()
	for k, v := range env {
		out = append(out, k+"="+os.Expand(v, os.Getenv))
	}
	return out
}

// writeKernelSpec writes spec to the kernelspec folder, unless it holds that spec already.
// It reports whether it wrote.
func writeKernelSpec(dir string, spec kernelSpec) (bool, error) {
	data, err := json.MarshalIndent(spec, "", "  ")
	if err != nil {
		return false, fmt.Errorf("kernel: %w", err)
	}
	data = append(data, '\n')
	name := filepath.Join(dir, "kernel.json")
	if old, err := os.ReadFile(name); err == nil && bytes.Equal(old, data) {
		return false, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return false, fmt.Errorf("kernel: %w", err)
	}
	if err := os.WriteFile(name, data, 0o644); err != nil {
		return false, fmt.Errorf("kernel: writing kernelspec: %w", err)
	}
	return true, nil
}

// readKernelSpec reads the kernel.json in dir.
func readKernelSpec(dir string) (kernelSpec, error) {
	var spec kernelSpec
	data, err := os.ReadFile(filepath.Join(dir, "kernel.json"))
	if err != nil {
		return spec, fmt.Errorf("kernel: %w", err)
	}
	if err := json.Unmarshal(data, &spec); err != nil {
		return spec, fmt.Errorf("kernel: %s: %w", filepath.Join(dir, "kernel.json"), err)
	}
	return spec, nil
}
