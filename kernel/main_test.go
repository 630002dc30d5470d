package main

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
)

// testLayout points DLEXP_HOME and the Jupyter data folder into a temporary folder.
func testLayout(t *testing.T) layout {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("DLEXP_HOME", filepath.Join(dir, "home"))
	t.Setenv("JUPYTER_DATA_DIR", filepath.Join(dir, "jupyter"))
	l, err := newLayout()
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestKernelEnvPutsLocalProxiesFirst(t *testing.T) {
	l := testLayout(t)
	goenv := map[string]string{
		"GOMODCACHE": "/cache/mod",
		"GOROOT":     "/go",
		"GONOSUMDB":  "example.com/private",
		// As seen from inside a kernel: the local proxies are there already.
		"GOPROXY": "file://" + l.Proxy + ",file:///cache/mod/cache/download,https://proxy.example",
	}
	env := kernelEnv(l, goenv)

	want := "file://" + filepath.ToSlash(l.Proxy) + ",file:///cache/mod/cache/download," +
		"https://proxy.example"
	if env["GOPROXY"] != want {
		t.Errorf("GOPROXY = %q, want %q", env["GOPROXY"], want)
	}
	if env["GONOSUMDB"] != "example.com/private,"+modulePath {
		t.Errorf("GONOSUMDB = %q", env["GONOSUMDB"])
	}
	if env["PATH"] != l.Bin+":/go/bin:${PATH}" {
		t.Errorf("PATH = %q", env["PATH"])
	}
	if env["GOTOOLCHAIN"] != "local" || env["DLEXP_ECHARTS_JS"] != l.EChartsJS {
		t.Errorf("env = %v", env)
	}
}

func TestExpandEnvSubstitutesLikeJupyter(t *testing.T) {
	t.Setenv("PATH", "/usr/bin")
	got := expandEnv(map[string]string{"PATH": "/tools:${PATH}"})
	if last := got[len(got)-1]; last != "PATH=/tools:/usr/bin" {
		t.Errorf("last entry = %q, want PATH=/tools:/usr/bin", last)
	}
}

func TestWriteKernelSpecOnlyWhenChanged(t *testing.T) {
	l := testLayout(t)
	spec := newKernelSpec(l, map[string]string{"A": "1"})
	for i, want := range []bool{true, false} {
		wrote, err := writeKernelSpec(l.KernelDir, spec)
		if err != nil {
			t.Fatal(err)
		}
		if wrote != want {
			t.Errorf("write %d: wrote = %v, want %v", i, wrote, want)
		}
	}
	got, err := readKernelSpec(l.KernelDir)
	if err != nil {
		t.Fatal(err)
	}
	if got.DisplayName != kernelDisplayName || got.Argv[0] != filepath.Join(l.Bin, "gonb") ||
		got.Argv[2] != "{connection_file}" || got.Env["A"] != "1" {
		t.Errorf("read back %+v", got)
	}
	spec.Env["A"] = "2"
	if wrote, err := writeKernelSpec(l.KernelDir, spec); err != nil || !wrote {
		t.Errorf("changed spec: wrote = %v, err = %v; want a rewrite", wrote, err)
	}
}

func TestInstalledVersionReadsBuildInfo(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		t.Skip("no build info in the test binary")
	}
	self := tool{Name: "self", Pkg: info.Path, Module: info.Main.Path, Version: info.Main.Version}
	if got := self.installedVersion(exe); got != info.Main.Version {
		t.Errorf("installedVersion = %q, want %q", got, info.Main.Version)
	}
	other := tool{Name: "gonb", Pkg: "github.com/janpfeifer/gonb"}
	if got := other.installedVersion(exe); got != "" {
		t.Errorf("another program reports version %q, want none", got)
	}
	if got := other.installedVersion(filepath.Join(t.TempDir(), "missing")); got != "" {
		t.Errorf("a missing binary reports version %q", got)
	}
}

func TestKernelToolsReadsPinnedVersions(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	tools, err := kernelTools(root)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]string{}
	for _, tl := range tools {
		names[tl.Name] = tl.Version
	}
	if names["gonb"] == "" || names["goimports"] == "" || names["gopls"] != goplsVersion {
		t.Errorf("tools = %v", names)
	}
}

func TestWarmProgramImportsEveryPackage(t *testing.T) {
	src := warmProgram([]string{"example.com/a", "example.com/b/c"})
	for _, want := range []string{"package main", `_ "example.com/a"`, `_ "example.com/b/c"`,
		"func main() {}"} {
		if !strings.Contains(src, want) {
			t.Errorf("program lacks %q:\n%s", want, src)
		}
	}
}

func TestUninstallRemovesWhatInstallPuts(t *testing.T) {
	l := testLayout(t)
	for _, p := range []string{
		filepath.Join(l.Bin, "gonb"), filepath.Join(l.Bin, "gopls"), l.EChartsJS,
		filepath.Join(l.Proxy, "x"), filepath.Join(l.KernelDir, "kernel.json"), l.WarmStamp,
	} {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var out bytes.Buffer
	if err := uninstall(&out); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{l.Home, l.KernelDir} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s still there after uninstall (%v)\n%s", p, err, out.String())
		}
	}
	if !strings.Contains(out.String(), "goimports: not installed, skipped") {
		t.Errorf("uninstall output does not say what it skipped:\n%s", out.String())
	}
}

func TestCheckFailsOnErrorsAndMissingOutputs(t *testing.T) {
	dir := t.TempDir()
	write := func(name, outputs string) string {
		p := filepath.Join(dir, name)
		nb := `{"cells": [{"cell_type": "code", "source": "", "outputs": [` + outputs + `]}]}`
		if err := os.WriteFile(p, []byte(nb), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good.ipynb", `{"output_type": "stream", "name": "stdout", "text": "ok"}`)
	bad := write("bad.ipynb", `{"output_type": "stream", "name": "stderr", "text": "panic: x"}`)

	var out bytes.Buffer
	if code := run([]string{"check", good}, &out, &out); code != 0 {
		t.Errorf("check of a clean notebook exits %d:\n%s", code, out.String())
	}
	out.Reset()
	if code := run([]string{"check", bad}, &out, &out); code != 1 ||
		!strings.Contains(out.String(), "panic: x") {
		t.Errorf("check of a panicking notebook exits %d:\n%s", code, out.String())
	}
	out.Reset()
	if code := run([]string{"check", "-gif", "-chart", good}, &out, &out); code != 1 ||
		!strings.Contains(out.String(), "no inline GIF") ||
		!strings.Contains(out.String(), "no ECharts chart") {
		t.Errorf("check -gif -chart of a notebook without them exits %d:\n%s", code, out.String())
	}
}

func TestRunRejectsUnknownCommands(t *testing.T) {
	var out bytes.Buffer
	if code := run(nil, &out, &out); code != 2 {
		t.Errorf("no command: exit %d, want 2", code)
	}
	if code := run([]string{"frobnicate"}, &out, &out); code != 2 {
		t.Errorf("unknown command: exit %d, want 2", code)
	}
}
