package modproxy

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/module"
)

// writeTree creates the files (slash path -> content) under dir.
func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		full := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func zooModule(t *testing.T, greeting string) string {
	t.Helper()
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		"go.mod":         "module example.com/zoo\n\ngo 1.21\n",
		"hello/hello.go": "package hello\n\nfunc Greeting() string { return \"" + greeting + "\" }\n",
		"tools/go.mod":   "module example.com/zoo/tools\n",
		"tools/tools.go": "package tools\n",
		".hidden/x.txt":  "left out\n",
	})
	return dir
}

func TestWriteSkipsUnchangedContent(t *testing.T) {
	src := zooModule(t, "hi")
	proxy := t.TempDir()
	t0 := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

	first, err := Write(proxy, src, t0)
	if err != nil {
		t.Fatal(err)
	}
	if !first.Written || first.Path != "example.com/zoo" || !module.IsPseudoVersion(first.Version) {
		t.Fatalf("first snapshot = %+v", first)
	}
	if !strings.HasPrefix(first.Version, "v0.0.0-20250102030405-") {
		t.Errorf("version %s does not carry the snapshot time", first.Version)
	}
	if first.Files != 2 {
		t.Errorf("snapshot holds %d files, want 2 (go.mod, hello/hello.go)", first.Files)
	}

	again, err := Write(proxy, src, t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if again.Written || again.Version != first.Version {
		t.Fatalf("unchanged checkout gave %+v, want the existing %s", again, first.Version)
	}

	if v, ok, err := UpToDate(proxy, src); err != nil || !ok || v != first.Version {
		t.Fatalf("UpToDate = %s, %v, %v; want %s, true", v, ok, err, first.Version)
	}
	writeTree(t, src, map[string]string{"hello/hello.go": "package hello\n\n// changed\n"})
	if _, ok, err := UpToDate(proxy, src); err != nil || ok {
		t.Fatalf("UpToDate after a change = %v, %v; want false", ok, err)
	}
	changed, err := Write(proxy, src, t0.Add(2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if !changed.Written || changed.Version == first.Version {
		t.Fatalf("changed checkout gave %+v", changed)
	}
	if latest, _ := Latest(proxy, "example.com/zoo"); latest != changed.Version {
		t.Errorf("Latest = %s, want %s", latest, changed.Version)
	}
	old := filepath.Join(proxy, "example.com", "zoo", "@v", first.Version+".zip")
	if _, err := os.Stat(old); !os.IsNotExist(err) {
		t.Errorf("old snapshot %s still there (err %v)", old, err)
	}
}

func TestWriteServesGoGet(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go command not found")
	}
	src := zooModule(t, "hello from the snapshot")
	proxy := t.TempDir()
	if _, err := Write(proxy, src, time.Now()); err != nil {
		t.Fatal(err)
	}

	user := t.TempDir()
	writeTree(t, user, map[string]string{
		"main.go": "package main\n\nimport (\n\t\"fmt\"\n\n\t\"example.com/zoo/hello\"\n)\n\n" +
			"func main() { fmt.Println(hello.Greeting()) }\n",
	})
	env := append(os.Environ(),
		"GOPROXY=file://"+filepath.ToSlash(proxy),
		"GONOSUMDB=example.com/zoo",
		"GOFLAGS=-modcacherw",
		"GOMODCACHE="+t.TempDir(),
		"GOTOOLCHAIN=local",
		"GOWORK=off",
	)
	for _, args := range [][]string{{"mod", "init", "gonb_test"}, {"get"}, {"run", "."}} {
		cmd := exec.Command(goBin, args...)
		cmd.Dir = user
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		if args[0] == "run" && !strings.Contains(string(out), "hello from the snapshot") {
			t.Errorf("go run printed %q", out)
		}
	}
}
