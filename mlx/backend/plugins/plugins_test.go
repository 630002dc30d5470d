package plugins

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCPUFoldersFollowTheSearchOrder(t *testing.T) {
	env := map[string]string{
		"HOME":                     "/home/u",
		"PJRT_PLUGIN_LIBRARY_PATH": "/p1:relative:/p2/",
		"LD_LIBRARY_PATH":          "/l1:/p1",
	}
	want := []string{
		"/p1", "/p2",
		"/home/u/.local/lib/go-xla", "/home/u/.local/lib/go-xla/nvidia",
		"/home/u/.local/lib/gomlx/pjrt", "/home/u/.local/lib/gomlx/pjrt/nvidia",
		"/usr/local/lib/go-xla", "/usr/local/lib/go-xla/nvidia",
		"/usr/local/lib/gomlx/pjrt", "/usr/local/lib/gomlx/pjrt/nvidia",
		"/l1",
	}
	got := CPUFolders(func(name string) string { return env[name] })
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("got  %v\nwant %v", got, want)
	}
}

func TestFindCPUSkipsFilesThatAreNotSharedObjects(t *testing.T) {
	root := t.TempDir()
	write := func(p, data string) {
		t.Helper()
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("/a/pjrt_c_api_cpu_plugin.so", "not elf")
	write("/b/pjrt_plugin_cpu.so", "\x7fELF rest")
	got, ok := FindCPU(root, []string{"/a", "/b"})
	if !ok || got != "/b/pjrt_plugin_cpu.so" {
		t.Errorf("FindCPU = %q, %v; want /b/pjrt_plugin_cpu.so", got, ok)
	}
	if _, ok := FindCPU(root, []string{"/a", "/missing"}); ok {
		t.Error("FindCPU found a plugin where there is none")
	}
}
