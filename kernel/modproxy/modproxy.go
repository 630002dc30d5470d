// Package modproxy writes a snapshot of a Go module checkout into a directory laid out as a
// GOPROXY file tree, so that `go get` in any other module can fetch the checkout offline
// through GOPROXY=file://<dir>.
//
// Each snapshot gets a pseudo-version made from the time it was taken and a hash of its
// content (v0.0.0-<yyyymmddhhmmss>-<hash>). A snapshot whose content equals the newest one
// already in the tree is not written again.
package modproxy

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
	modzip "golang.org/x/mod/zip"
)

// Snapshot describes a module snapshot held in a proxy tree.
type Snapshot struct {
	// Path is the module path, read from the checkout's go.mod.
	Path string
	// Version is the pseudo-version the snapshot is served at.
	Version string
	// Files is the number of files in the module zip.
	Files int
	// Written is false when an identical snapshot was already in the tree.
	Written bool
}

// Write takes a snapshot of the module rooted at srcDir and stores it in the proxy tree at
// proxyDir, unless the newest snapshot there already has the same content. Older snapshots
// of the same module are removed from the tree. now dates a new pseudo-version.
func Write(proxyDir, srcDir string, now time.Time) (Snapshot, error) {
	c, err := readCheckout(srcDir)
	if err != nil {
		return Snapshot{}, err
	}
	snap := Snapshot{Path: c.modPath, Files: len(c.valid)}
	if v, ok := Latest(proxyDir, c.modPath); ok && c.matches(v) {
		snap.Version = v
		return snap, nil
	}

	escaped, err := module.EscapePath(c.modPath)
	if err != nil {
		return Snapshot{}, fmt.Errorf("modproxy: module path %q: %w", c.modPath, err)
	}
	vdir := filepath.Join(proxyDir, filepath.FromSlash(escaped), "@v")

	snap.Version = module.PseudoVersion("v0", "", now.UTC(), c.rev())
	snap.Written = true
	if err := os.MkdirAll(vdir, 0o755); err != nil {
		return Snapshot{}, fmt.Errorf("modproxy: %w", err)
	}
	if err := writeVersion(vdir, c.modPath, snap.Version, c.goMod, now, c.files); err != nil {
		return Snapshot{}, err
	}
	if err := pruneOthers(vdir, snap.Version); err != nil {
		return Snapshot{}, err
	}
	return snap, nil
}

// Latest returns the version that the proxy tree at proxyDir serves as the latest one of
// module modPath, and whether there is one.
func Latest(proxyDir, modPath string) (string, bool) {
	escaped, err := module.EscapePath(modPath)
	if err != nil {
		return "", false
	}
	data, err := os.ReadFile(filepath.Join(proxyDir, filepath.FromSlash(escaped), "@latest"))
	if err != nil {
		return "", false
	}
	var info struct{ Version string }
	if json.Unmarshal(data, &info) != nil || info.Version == "" {
		return "", false
	}
	return info.Version, true
}

// UpToDate reports whether the latest snapshot of the module at srcDir in the proxy tree at
// proxyDir has the checkout's current content, and returns that snapshot's version ("" when
// there is none).
func UpToDate(proxyDir, srcDir string) (string, bool, error) {
	c, err := readCheckout(srcDir)
	if err != nil {
		return "", false, err
	}
	v, ok := Latest(proxyDir, c.modPath)
	if !ok {
		return "", false, nil
	}
	return v, c.matches(v), nil
}

// checkout is the content of a module checkout, as a snapshot would hold it.
type checkout struct {
	modPath string
	goMod   []byte
	files   []modzip.File // every file listed
	valid   []string      // the ones the module zip keeps
	sum     string        // hex hash of the kept files
}

func readCheckout(srcDir string) (checkout, error) {
	modPath, goMod, err := readGoMod(srcDir)
	if err != nil {
		return checkout{}, err
	}
	files, err := listFiles(srcDir)
	if err != nil {
		return checkout{}, err
	}
	checked, err := modzip.CheckFiles(files)
	if err != nil {
		return checkout{}, fmt.Errorf("modproxy: checking files of %s: %w", srcDir, err)
	}
	sum, err := contentHash(srcDir, checked.Valid)
	if err != nil {
		return checkout{}, err
	}
	return checkout{modPath: modPath, goMod: goMod, files: files, valid: checked.Valid,
		sum: sum}, nil
}

// rev returns the revision part of the pseudo-version of the checkout's content.
func (c checkout) rev() string { return c.sum[:12] }

// matches reports whether pseudo-version v was made from the checkout's content.
func (c checkout) matches(v string) bool {
	rev, err := module.PseudoVersionRev(v)
	return err == nil && rev == c.rev()
}

// readGoMod returns the module path and the content of srcDir/go.mod.
func readGoMod(srcDir string) (string, []byte, error) {
	name := filepath.Join(srcDir, "go.mod")
	data, err := os.ReadFile(name)
	if err != nil {
		return "", nil, fmt.Errorf("modproxy: %w", err)
	}
	path := modfile.ModulePath(data)
	if path == "" {
		return "", nil, fmt.Errorf("modproxy: %s has no module line", name)
	}
	return path, data, nil
}

// writeVersion writes the .zip, .mod and .info files of one version, then points list and
// @latest at it. Each file is written under a temporary name and renamed into place.
func writeVersion(vdir, modPath, version string, goMod []byte, now time.Time,
	files []modzip.File) error {

	var zbuf bytes.Buffer
	mv := module.Version{Path: modPath, Version: version}
	if err := modzip.Create(&zbuf, mv, files); err != nil {
		return fmt.Errorf("modproxy: zipping %s: %w", mv, err)
	}
	info, err := json.Marshal(struct {
		Version string
		Time    string
	}{version, now.UTC().Format(time.RFC3339)})
	if err != nil {
		return fmt.Errorf("modproxy: %w", err)
	}
	steps := []struct {
		name string
		data []byte
	}{
		{version + ".zip", zbuf.Bytes()},
		{version + ".mod", goMod},
		{version + ".info", info},
		{"list", []byte(version + "\n")},
		{filepath.Join("..", "@latest"), info},
	}
	for _, s := range steps {
		if err := writeFileAtomic(filepath.Join(vdir, s.name), s.data); err != nil {
			return err
		}
	}
	return nil
}

// pruneOthers removes the files of every version in vdir other than keep.
func pruneOthers(vdir, keep string) error {
	entries, err := os.ReadDir(vdir)
	if err != nil {
		return fmt.Errorf("modproxy: %w", err)
	}
	for _, e := range entries {
		name := e.Name()
		ext := filepath.Ext(name)
		if ext != ".zip" && ext != ".mod" && ext != ".info" {
			continue
		}
		if strings.TrimSuffix(name, ext) == keep {
			continue
		}
		if err := os.Remove(filepath.Join(vdir, name)); err != nil {
			return fmt.Errorf("modproxy: removing old snapshot: %w", err)
		}
	}
	return nil
}

func writeFileAtomic(name string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(name), ".tmp-"+filepath.Base(name)+"-*")
	if err != nil {
		return fmt.Errorf("modproxy: %w", err)
	}
	_, werr := tmp.Write(data)
	cerr := tmp.Close()
	if werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Chmod(tmp.Name(), 0o644)
	}
	if werr == nil {
		werr = os.Rename(tmp.Name(), name)
	}
	if werr != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("modproxy: writing %s: %w", name, werr)
	}
	return nil
}

// contentHash hashes the names and contents of the given files (relative slash paths under
// dir) and returns it in hex.
func contentHash(dir string, paths []string) (string, error) {
	sorted := append([]string(nil), paths...)
	sort.Strings(sorted)
	h := sha256.New()
	for _, p := range sorted {
		f, err := os.Open(filepath.Join(dir, filepath.FromSlash(p)))
		if err != nil {
			return "", fmt.Errorf("modproxy: %w", err)
		}
		fi, err := f.Stat()
		if err != nil {
			_ = f.Close()
			return "", fmt.Errorf("modproxy: %w", err)
		}
		fmt.Fprintf(h, "%s\x00%d\x00", p, fi.Size())
		_, err = io.Copy(h, f)
		_ = f.Close()
		if err != nil {
			return "", fmt.Errorf("modproxy: reading %s: %w", p, err)
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// listFiles returns the files of the checkout at dir: in a git work tree, the tracked and
// untracked files that git does not ignore; elsewhere every regular file outside hidden
// folders. Files that no longer exist are left out.
func listFiles(dir string) ([]modzip.File, error) {
	names, err := gitFiles(dir)
	if err != nil {
		names, err = walkFiles(dir)
	}
	if err != nil {
		return nil, err
	}
	var files []modzip.File
	for _, name := range names {
		full := filepath.Join(dir, filepath.FromSlash(name))
		fi, err := os.Lstat(full)
		if err != nil || !fi.Mode().IsRegular() {
			continue
		}
		files = append(files, dirFile{slash: name, full: full, info: fi})
	}
	return files, nil
}

func gitFiles(dir string) ([]string, error) {
	if _, err := os.Stat(filepath.Join(dir, ".git")); err != nil {
		return nil, err
	}
	cmd := exec.Command("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard")
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("modproxy: git ls-files: %w", err)
	}
	var names []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	sc.Split(splitNUL)
	for sc.Scan() {
		if sc.Text() != "" {
			names = append(names, sc.Text())
		}
	}
	return names, sc.Err()
}

func splitNUL(data []byte, atEOF bool) (int, []byte, error) {
	if i := bytes.IndexByte(data, 0); i >= 0 {
		return i + 1, data[:i], nil
	}
	if atEOF && len(data) > 0 {
		return len(data), data, nil
	}
	return 0, nil, nil
}

func walkFiles(dir string) ([]string, error) {
	var names []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && p != dir && strings.HasPrefix(d.Name(), ".") {
			return filepath.SkipDir
		}
		if d.Type().IsRegular() {
			rel, err := filepath.Rel(dir, p)
			if err != nil {
				return err
			}
			names = append(names, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("modproxy: listing %s: %w", dir, err)
	}
	return names, nil
}

// dirFile is a file of the checkout, as the module zip writer wants it.
type dirFile struct {
	slash string
	full  string
	info  fs.FileInfo
}

func (f dirFile) Path() string                 { return f.slash }
func (f dirFile) Lstat() (fs.FileInfo, error)  { return f.info, nil }
func (f dirFile) Open() (io.ReadCloser, error) { return os.Open(f.full) }
