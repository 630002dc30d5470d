package fetch

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// DefaultMaxSize is the largest file Fetch accepts when neither the File nor
// the Fetcher sets a size: 8 GiB.
const DefaultMaxSize = 8 << 30

// ErrChecksum reports a file whose checksum is not the expected one.
var ErrChecksum = errors.New("checksum mismatch")

// File is one file of a dataset: its place in the cache, its checksum and where
// to get it.
type File struct {
	// Name is the file's slash-separated path inside the cache folder, such as
	// "mnist/train-images-idx3-ubyte.gz".
	Name string

	// SHA256 is the file's hex SHA-256. MD5 is the publisher's hex MD5, used
	// only when SHA256 is empty. One of them must be set.
	SHA256 string
	MD5    string

	// Size is the file's length in bytes, or 0 when unknown; a source that
	// offers another length is refused.
	Size int64

	// Sources are tried in order after the cache.
	Sources []Source
}

// Base returns the last element of the file's name.
func (f File) Base() string { return path.Base(f.Name) }

// checksum returns the name of the checksum, its expected hex value and a new
// hash to compute it.
func (f File) checksum() (algo, want string, h hash.Hash) {
	if f.SHA256 != "" {
		return "sha256", strings.ToLower(f.SHA256), sha256.New()
	}
	return "md5", strings.ToLower(f.MD5), md5.New()
}

// validate checks the parts of f that Fetch relies on.
func (f File) validate() error {
	if !filepath.IsLocal(filepath.FromSlash(f.Name)) || strings.Contains(f.Name, `\`) {
		return fmt.Errorf("fetch: file name %q is not a path inside the cache", f.Name)
	}
	if f.SHA256 == "" && f.MD5 == "" {
		return fmt.Errorf("fetch: %s: no checksum given", f.Name)
	}
	algo, want, h := f.checksum()
	if b, err := hex.DecodeString(want); err != nil || len(b) != h.Size() {
		return fmt.Errorf("fetch: %s: %s %q is not %d hex bytes", f.Name, algo, want, h.Size())
	}
	return nil
}

// Fetcher gets files into a cache folder. The zero value uses Dir(), the
// progress output of ProgressOutput() and DefaultMaxSize.
type Fetcher struct {
	// Dir is the cache folder; "" means Dir().
	Dir string

	// Progress receives progress lines; nil means ProgressOutput(). Set Quiet
	// to have no lines at all.
	Progress io.Writer
	Quiet    bool

	// MaxSize bounds the length of a file whose size is not known; 0 means
	// DefaultMaxSize.
	MaxSize int64
}

// Fetch gets file into the default cache folder; see Fetcher.Fetch.
func Fetch(ctx context.Context, file File) (string, error) {
	var f Fetcher
	return f.Fetch(ctx, file)
}

// Path returns where file lives in the cache folder, whether or not it is there.
func (fr *Fetcher) Path(file File) (string, error) {
	dir, err := fr.dir()
	if err != nil {
		return "", err
	}
	return folderFile(dir, file.Name), nil
}

// Fetch returns the path of file in the cache, after getting it from the first
// of its sources that gives it with the right checksum. A cached file whose
// checksum is wrong is removed and fetched again. When no source gives the file
// the error is a *MissingError that says where to put it by hand.
func (fr *Fetcher) Fetch(ctx context.Context, file File) (string, error) {
	if err := file.validate(); err != nil {
		return "", err
	}
	dst, err := fr.Path(file)
	if err != nil {
		return "", err
	}

	tried := make([]string, 0, len(file.Sources)+1)
	switch err := Verify(dst, file); {
	case err == nil:
		return dst, nil
	case errors.Is(err, fs.ErrNotExist):
		tried = append(tried, "cache: missing")
	default:
		slog.Warn("fetch: removing bad cached file", "file", dst, "err", err)
		if rerr := os.Remove(dst); rerr != nil {
			return "", fmt.Errorf("fetch: removing bad cached file: %w", rerr)
		}
		tried = append(tried, "cache: "+err.Error())
	}

	for _, src := range file.Sources {
		err := fr.copyIn(ctx, src, file, dst)
		if err == nil {
			slog.Info("fetch: cached", "file", dst, "from", src.String())
			return dst, nil
		}
		if ctx.Err() != nil {
			return "", fmt.Errorf("fetch: %s from %s: %w", file.Name, src, ctx.Err())
		}
		tried = append(tried, fmt.Sprintf("%s: %v", src, err))
	}
	algo, want, _ := file.checksum()
	return "", &MissingError{File: file.Name, Path: dst, Algo: algo, Sum: want, Tried: tried}
}

// MissingError reports a file that no source could give.
type MissingError struct {
	File  string   // the file's name in the cache
	Path  string   // where to put it by hand
	Algo  string   // "sha256" or "md5"
	Sum   string   // the expected checksum
	Tried []string // one entry per place tried, with why it failed
}

// Error says in one line which file to put where, and what was tried.
func (e *MissingError) Error() string {
	return fmt.Sprintf("fetch: cannot get %s; put the file %s (%s %s) at %s by hand (tried: %s)",
		e.File, path.Base(e.File), e.Algo, e.Sum, e.Path, strings.Join(e.Tried, "; "))
}

// Verify checks that the file at p has file's size (when set) and checksum. It
// returns an error wrapping fs.ErrNotExist when there is no file.
func Verify(p string, file File) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()

	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if file.Size > 0 && fi.Size() != file.Size {
		return fmt.Errorf("size %d, want %d", fi.Size(), file.Size)
	}
	algo, want, h := file.checksum()
	if _, err := io.Copy(h, f); err != nil {
		return err
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != want {
		return fmt.Errorf("%w: %s %s, want %s", ErrChecksum, algo, got, want)
	}
	return nil
}

// copyIn copies file from src to a temporary file beside dst, checks it, and
// renames it to dst. Nothing is left beside dst on failure.
func (fr *Fetcher) copyIn(ctx context.Context, src Source, file File, dst string) error {
	rc, size, err := src.Open(ctx)
	if err != nil {
		return err
	}
	defer rc.Close()

	limit := fr.maxSize()
	if file.Size > 0 {
		limit = file.Size
	}
	if size >= 0 && size > limit {
		return fmt.Errorf("offers %d bytes, more than the limit of %d", size, limit)
	}
	if file.Size > 0 && size >= 0 && size != file.Size {
		return fmt.Errorf("offers %d bytes, want %d", size, file.Size)
	}

	tmp, err := createTemp(dst)
	if err != nil {
		return err
	}
	total := size
	if total < 0 {
		total = file.Size
	}
	prog := NewProgress(fr.progress(), "fetch: "+file.Name, total)
	algo, want, h := file.checksum()
	n, err := io.Copy(io.MultiWriter(tmp, h, prog), io.LimitReader(rc, limit+1))
	prog.Finish()
	switch {
	case err != nil:
	case n > limit:
		err = fmt.Errorf("more than the limit of %d bytes", limit)
	case size >= 0 && n != size:
		err = fmt.Errorf("truncated: got %d of %d bytes", n, size)
	case file.Size > 0 && n != file.Size:
		err = fmt.Errorf("got %d bytes, want %d", n, file.Size)
	}
	if err == nil {
		if got := hex.EncodeToString(h.Sum(nil)); got != want {
			err = fmt.Errorf("%w: %s %s, want %s", ErrChecksum, algo, got, want)
		}
	}
	if err != nil {
		discardTemp(tmp)
		return err
	}
	return commitTemp(tmp, dst)
}

func (fr *Fetcher) dir() (string, error) {
	if fr.Dir != "" {
		return fr.Dir, nil
	}
	return Dir()
}

func (fr *Fetcher) maxSize() int64 {
	if fr.MaxSize > 0 {
		return fr.MaxSize
	}
	return DefaultMaxSize
}

func (fr *Fetcher) progress() io.Writer {
	if fr.Quiet {
		return nil
	}
	if fr.Progress != nil {
		return fr.Progress
	}
	return ProgressOutput()
}
