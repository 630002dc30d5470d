// Package plugins finds PJRT plugin files on the machine: the folders they are installed in,
// the names the XLA CPU plugin goes by, and the check that a file is a shared object. It imports
// neither GoMLX nor cgo, so commands that only look for plugins stay light.
package plugins

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
)

// CPUNames are the file names of the XLA CPU PJRT plugin.
var CPUNames = []string{
	"pjrt_c_api_cpu_plugin.so", "pjrt-plugin-cpu.so", "pjrt_plugin_cpu.so",
}

// Folders lists, in search order, the folders where PJRT plugins are installed outside Python:
// PJRT_PLUGIN_LIBRARY_PATH, then go-xla's and GoMLX's install folders (the user's, then the
// system's, each with its nvidia/ subfolder). getenv returns a variable's value, "" when unset.
func Folders(getenv func(string) string) []string {
	dirs := PathList(getenv("PJRT_PLUGIN_LIBRARY_PATH"))
	var installs []string
	if h := getenv("HOME"); filepath.IsAbs(h) {
		installs = append(installs,
			filepath.Join(h, ".local/lib/go-xla"), filepath.Join(h, ".local/lib/gomlx/pjrt"))
	}
	installs = append(installs, "/usr/local/lib/go-xla", "/usr/local/lib/gomlx/pjrt")
	for _, d := range installs {
		dirs = append(dirs, d, filepath.Join(d, "nvidia"))
	}
	return Dedupe(dirs)
}

// CPUFolders lists, in search order, the folders where the XLA CPU plugin is looked for: the
// Folders, then LD_LIBRARY_PATH.
func CPUFolders(getenv func(string) string) []string {
	return Dedupe(append(Folders(getenv), PathList(getenv("LD_LIBRARY_PATH"))...))
}

// FindCPU returns the first XLA CPU plugin in dirs: a file with one of the CPUNames for which
// IsSharedLibrary holds. Every path is read under root, the folder standing for the machine's
// "/" ("" or "/" for the machine itself); the path returned is the machine's.
func FindCPU(root string, dirs []string) (string, bool) {
	for _, dir := range dirs {
		for _, name := range CPUNames {
			if f := filepath.Join(dir, name); IsSharedLibrary(filepath.Join(root, f)) {
				return f, true
			}
		}
	}
	return "", false
}

// IsSharedLibrary reports whether path is a regular file (links followed) that starts like an
// ELF shared object, so that a dangling link or an empty file is never chosen.
func IsSharedLibrary(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil || !info.Mode().IsRegular() {
		return false
	}
	magic := make([]byte, 4)
	if _, err := io.ReadFull(f, magic); err != nil {
		return false
	}
	return bytes.Equal(magic, []byte("\x7fELF"))
}

// PathList splits a colon separated list of folders, keeping the absolute ones, cleaned.
func PathList(list string) []string {
	var out []string
	for _, p := range filepath.SplitList(list) {
		if filepath.IsAbs(p) {
			out = append(out, filepath.Clean(p))
		}
	}
	return out
}

// Dedupe drops repeated folders, keeping the first.
func Dedupe(dirs []string) []string {
	seen := make(map[string]bool, len(dirs))
	out := dirs[:0:0]
	for _, d := range dirs {
		if !seen[d] {
			seen[d] = true
			out = append(out, d)
		}
	}
	return out
}
