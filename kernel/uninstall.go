package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// uninstall removes the kernelspec and the pieces install put under DLEXP_HOME. The module
// and build caches, and the data cache, are left alone.
func uninstall(w io.Writer) error {
	l, err := newLayout()
	if err != nil {
		return err
	}
	pieces := []struct{ what, path string }{
		{"kernelspec " + kernelName, l.KernelDir},
		{"gonb", filepath.Join(l.Bin, "gonb")},
		{"goimports", filepath.Join(l.Bin, "goimports")},
		{"gopls", filepath.Join(l.Bin, "gopls")},
		{"echarts", l.NPM},
		{"zoo snapshot", l.Proxy},
		{"warm-up stamp", l.WarmStamp},
	}
	for _, p := range pieces {
		if _, err := os.Lstat(p.path); os.IsNotExist(err) {
			fmt.Fprintf(w, "%s: not installed, skipped\n", p.what)
			continue
		}
		if err := os.RemoveAll(p.path); err != nil {
			return fmt.Errorf("kernel: removing %s: %w", p.what, err)
		}
		fmt.Fprintf(w, "%s: removed %s\n", p.what, tilde(p.path))
	}
	// The folders go only when nothing else is left in them.
	for _, dir := range []string{l.Bin, l.Home} {
		if err := os.Remove(dir); err == nil {
			fmt.Fprintf(w, "home: removed empty %s\n", tilde(dir))
		}
	}
	return nil
}
