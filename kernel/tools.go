package main

import (
	"bytes"
	"debug/buildinfo"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/mod/modfile"
)

// goplsVersion is the gopls release installed; newer ones need a newer Go.
const goplsVersion = "v0.23.0"

// tool is a program the kernel needs in its PATH.
type tool struct {
	Name    string // binary name
	Pkg     string // main package
	Module  string // module holding Pkg
	Version string // version of Module wanted

	// ToolsDir, when set, is the module (kernel/tools) whose go.mod pins Version; the tool
	// is built there. Otherwise it is installed with `go install Pkg@Version`.
	ToolsDir string
}

// kernelTools returns the tools to install: gonb and goimports at the versions pinned in
// the checkout's kernel/tools/go.mod, and gopls.
func kernelTools(checkout string) ([]tool, error) {
	dir := filepath.Join(checkout, "kernel", "tools")
	name := filepath.Join(dir, "go.mod")
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("kernel: %w", err)
	}
	mf, err := modfile.ParseLax(name, data, nil)
	if err != nil {
		return nil, fmt.Errorf("kernel: %w", err)
	}
	pinned := func(mod string) (string, error) {
		for _, r := range mf.Require {
			if r.Mod.Path == mod {
				return r.Mod.Version, nil
			}
		}
		return "", fmt.Errorf("kernel: %s does not require %s", name, mod)
	}
	gonb, err := pinned("github.com/janpfeifer/gonb")
	if err != nil {
		return nil, err
	}
	xtools, err := pinned("golang.org/x/tools")
	if err != nil {
		return nil, err
	}
	return []tool{
		{Name: "gonb", Pkg: "github.com/janpfeifer/gonb",
			Module: "github.com/janpfeifer/gonb", Version: gonb, ToolsDir: dir},
		{Name: "goimports", Pkg: "golang.org/x/tools/cmd/goimports",
			Module: "golang.org/x/tools", Version: xtools, ToolsDir: dir},
		{Name: "gopls", Pkg: "golang.org/x/tools/gopls",
			Module: "golang.org/x/tools/gopls", Version: goplsVersion},
	}, nil
}

// installedVersion returns the version of t.Module that the binary at path was built from,
// or "" when there is no such binary or it is another program.
func (t tool) installedVersion(path string) string {
	info, err := buildinfo.ReadFile(path)
	if err != nil || info.Path != t.Pkg {
		return ""
	}
	if info.Main.Path == t.Module {
		return info.Main.Version
	}
	for _, d := range info.Deps {
		if d.Path == t.Module {
			return d.Version
		}
	}
	return ""
}

// install builds t into binDir, building parallel packages at a time.
func (t tool) install(binDir string, parallel int) error {
	p := "-p=" + strconv.Itoa(max(1, parallel))
	var cmd *exec.Cmd
	if t.ToolsDir != "" {
		cmd = exec.Command("go", "build", p, "-o", filepath.Join(binDir, t.Name), t.Pkg)
		cmd.Dir = t.ToolsDir
		cmd.Env = append(os.Environ(), "GOWORK=off", "GOTOOLCHAIN=local", "GOBIN=")
	} else {
		cmd = exec.Command("go", "install", p, t.Pkg+"@"+t.Version)
		cmd.Dir = binDir
		cmd.Env = append(os.Environ(), "GOWORK=off", "GOTOOLCHAIN=local", "GOBIN="+binDir)
	}
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("kernel: building %s %s: %w\n%s", t.Name, t.Version, err,
			strings.TrimSpace(out.String()))
	}
	if got := t.installedVersion(filepath.Join(binDir, t.Name)); got != t.Version {
		return fmt.Errorf("kernel: built %s reports version %q, want %s", t.Name, got, t.Version)
	}
	return nil
}
