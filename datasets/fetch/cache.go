package fetch

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// EnvDataDir is the environment variable that names the data cache folder.
const EnvDataDir = "DLEXP_DATA"

// Dir returns the data cache folder: $DLEXP_DATA when set, else "dlexp" under
// os.UserCacheDir. It does not create the folder.
func Dir() (string, error) {
	if d := os.Getenv(EnvDataDir); d != "" {
		abs, err := filepath.Abs(d)
		if err != nil {
			return "", fmt.Errorf("fetch: data folder %s=%q: %w", EnvDataDir, d, err)
		}
		return abs, nil
	}
	base, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("fetch: no data folder (set %s): %w", EnvDataDir, err)
	}
	return filepath.Join(base, "dlexp"), nil
}

// WriteAtomic creates or replaces the file at path with what write produces.
// It writes to a temporary file in the same folder, syncs it, and renames it
// over path, so readers see either the old file or the whole new one. On error
// the temporary file is removed and path is left as it was; an error from write
// is returned as it is.
func WriteAtomic(path string, write func(w io.Writer) error) error {
	tmp, err := createTemp(path)
	if err != nil {
		return err
	}
	if err := write(tmp); err != nil {
		_ = tmp.Close()
		_ = os.Remove(tmp.Name())
		return err
	}
	return commitTemp(tmp, path)
}

// createTemp makes the folder of path and a temporary file beside path.
func createTemp(path string) (*os.File, error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("fetch: %w", err)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".part-*")
	if err != nil {
		return nil, fmt.Errorf("fetch: %w", err)
	}
	return tmp, nil
}

// commitTemp syncs, closes and renames tmp to path, removing tmp on failure.
func commitTemp(tmp *os.File, path string) error {
	err := tmp.Sync()
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("fetch: writing %s: %w", path, err)
	}
	syncDir(filepath.Dir(path))
	return nil
}

// discardTemp closes and removes tmp.
func discardTemp(tmp *os.File) {
	_ = tmp.Close()
	_ = os.Remove(tmp.Name())
}

// syncDir flushes a folder's entries so a rename survives a crash; failures are
// ignored because some file systems cannot sync folders.
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	_ = d.Sync()
	_ = d.Close()
}
