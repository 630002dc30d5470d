package notebook

import (
	"fmt"
	"os"
	"path/filepath"
)

// OutDir returns the folder for output files: $DLEXP_OUT when set, else "out" under the
// working directory (the notebook's folder when run by a kernel).
func OutDir() string {
	if d := os.Getenv(EnvOut); d != "" {
		return d
	}
	return "out"
}

// OutPath resolves name for writing: an absolute name is kept, a relative one is placed under
// OutDir. The parent folder is created.
func OutPath(name string) (string, error) {
	if name == "" {
		return "", fmt.Errorf("notebook: empty output file name")
	}
	p := name
	if !filepath.IsAbs(name) {
		p = filepath.Join(OutDir(), name)
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return "", fmt.Errorf("notebook: creating folder for %q: %w", p, err)
	}
	return p, nil
}

// WriteFileAtomic writes data to path so that readers see either the old file or the complete
// new one: it writes a temporary file in the same folder, syncs it and renames it over path.
// The temporary file is removed on any failure.
func WriteFileAtomic(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("notebook: writing %q: %w", path, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(tmp)
		}
	}()
	if _, err = f.Write(data); err != nil {
		return fmt.Errorf("notebook: writing %q: %w", path, err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("notebook: syncing %q: %w", path, err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("notebook: closing %q: %w", path, err)
	}
	if err = os.Chmod(tmp, 0o644); err != nil {
		return fmt.Errorf("notebook: setting mode of %q: %w", path, err)
	}
	if err = os.Rename(tmp, path); err != nil {
		return fmt.Errorf("notebook: renaming into %q: %w", path, err)
	}
	return nil
}

// SaveFile writes data atomically to OutPath(name) and returns the path written.
func SaveFile(name string, data []byte) (string, error) {
	p, err := OutPath(name)
	if err != nil {
		return "", err
	}
	if err := WriteFileAtomic(p, data); err != nil {
		return "", err
	}
	return p, nil
}
