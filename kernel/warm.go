package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// importablePackages lists the packages of the checkout a notebook can import: every
// package with Go files that is not a command, a test-only package or internal.
func importablePackages(checkout string) ([]string, error) {
	cmd := exec.Command("go", "list", "-e", "-json=ImportPath,Name,GoFiles", "./...")
	cmd.Dir = checkout
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOTOOLCHAIN=local")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("kernel: go list: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	var pkgs []string
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p struct {
			ImportPath string
			Name       string
			GoFiles    []string
		}
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			return nil, fmt.Errorf("kernel: go list: %w", err)
		}
		internal := strings.Contains(p.ImportPath+"/", "/internal/")
		if p.Name != "main" && len(p.GoFiles) > 0 && !internal {
			pkgs = append(pkgs, p.ImportPath)
		}
	}
	sort.Strings(pkgs)
	return pkgs, nil
}

// warmProgram returns a main package importing every one of pkgs.
func warmProgram(pkgs []string) string {
	var b strings.Builder
	b.WriteString("package main\n\nimport (\n")
	for _, p := range pkgs {
		fmt.Fprintf(&b, "\t_ %q\n", p)
	}
	b.WriteString(")\n\nfunc main() {}\n")
	return b.String()
}

// warmStamp says what a warm-up covered: the snapshot version, the packages, the go
// version and build cache. A warm-up with the same stamp has nothing left to compile.
func warmStamp(version string, pkgs []string, goenv map[string]string) string {
	return strings.Join([]string{
		"version " + version,
		"go " + goenv["GOVERSION"],
		"cache " + goenv["GOCACHE"],
		"packages " + strings.Join(pkgs, " "),
	}, "\n") + "\n"
}

// warmBuildCache compiles, the way GoNB compiles a cell, a program importing pkgs: in a new
// module named like GoNB's, `go get` to resolve the imports through the kernel's proxies,
// then `go build`. The build cache then holds every package a notebook may import.
func warmBuildCache(pkgs []string, env map[string]string, parallel int) error {
	dir, err := os.MkdirTemp("", "dlexp-warm-")
	if err != nil {
		return fmt.Errorf("kernel: %w", err)
	}
	defer os.RemoveAll(dir)

	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(warmProgram(pkgs)),
		0o644); err != nil {
		return fmt.Errorf("kernel: %w", err)
	}
	environ := append(expandEnv(env), "GOWORK=off")
	p := "-p=" + strconv.Itoa(max(1, parallel))
	steps := [][]string{
		{"mod", "init", "gonb_warmup"},
		{"get"},
		{"build", p, "-o", filepath.Join(dir, "warmup"), "."},
	}
	for _, args := range steps {
		cmd := exec.Command("go", args...)
		cmd.Dir = dir
		cmd.Env = environ
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("kernel: warm-up `go %s`: %w\n%s", strings.Join(args, " "), err,
				strings.TrimSpace(string(out)))
		}
	}
	return nil
}
