//go:build cgo && linux && amd64 && !noxla

package backend

import (
	"os"
	"path/filepath"
	"testing"
)

func TestXLAWithoutPluginFailsWithoutDownloading(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	if !xlaCompiled {
		t.Fatal("the xla backend is not linked into a cgo build")
	}
	_, err := NewFor(Choice{Config: "xla:cuda", fromEnv: true})
	if err == nil {
		t.Skip("a CUDA plugin is installed on this machine")
	}
	if _, statErr := os.Stat(filepath.Join(home, ".local/lib/go-xla")); statErr == nil {
		t.Fatalf("asking for xla:cuda created an install folder: %v", err)
	}
	t.Logf("error, as expected: %v", err)
}
