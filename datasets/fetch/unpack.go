package fetch

import (
	"archive/tar"
	"archive/zip"
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Limits bounds what Unpack writes. A zero field takes its default.
type Limits struct {
	MaxFiles     int   // entries in the archive; default 100,000
	MaxFileSize  int64 // bytes of one entry; default 4 GiB
	MaxTotalSize int64 // bytes of all entries together; default 16 GiB
}

func (l Limits) withDefaults() Limits {
	if l.MaxFiles <= 0 {
		l.MaxFiles = 100_000
	}
	if l.MaxFileSize <= 0 {
		l.MaxFileSize = 4 << 30
	}
	if l.MaxTotalSize <= 0 {
		l.MaxTotalSize = 16 << 30
	}
	return l
}

// ErrUnsafeArchive reports an archive entry that Unpack refuses: a path that
// leaves the target folder, a link, a special file, or a size beyond the limits.
var ErrUnsafeArchive = errors.New("unsafe archive")

// Unpack extracts the tar.gz or zip archive at archive (told apart by their
// first bytes) into the folder dest, which must not exist yet. It extracts into
// a temporary folder beside dest and renames it to dest only when every entry
// is written, so on error nothing is left under dest or beside it. Entries
// that leave the folder, links, special files and sizes beyond lim are refused
// with an error wrapping ErrUnsafeArchive. Progress lines go to
// ProgressOutput().
func Unpack(archive, dest string, lim Limits) error {
	return unpack(archive, dest, lim, ProgressOutput())
}

// UnpackQuiet is Unpack without progress lines.
func UnpackQuiet(archive, dest string, lim Limits) error {
	return unpack(archive, dest, lim, nil)
}

func unpack(archive, dest string, lim Limits, progress io.Writer) error {
	lim = lim.withDefaults()
	if _, err := os.Lstat(dest); err == nil {
		return fmt.Errorf("fetch: unpacking %s: %s already exists", archive, dest)
	}
	f, err := os.Open(archive)
	if err != nil {
		return fmt.Errorf("fetch: unpacking: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("fetch: unpacking: %w", err)
	}

	parent := filepath.Dir(dest)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return fmt.Errorf("fetch: unpacking %s: %w", archive, err)
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(dest)+".part-")
	if err != nil {
		return fmt.Errorf("fetch: unpacking %s: %w", archive, err)
	}

	prog := NewProgress(progress, "unpack: "+filepath.Base(archive), fi.Size())
	var magic [4]byte
	_, err = io.ReadFull(f, magic[:])
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	w := &writer{root: tmp, lim: lim}
	switch {
	case err != nil:
		err = fmt.Errorf("reading: %w", err)
	case magic[0] == 0x1f && magic[1] == 0x8b:
		err = w.tarGz(io.TeeReader(f, prog))
	case bytes.Equal(magic[:], []byte("PK\x03\x04")), bytes.Equal(magic[:], []byte("PK\x05\x06")):
		err = w.zip(f, fi.Size(), prog)
	default:
		err = errors.New("neither a gzip-compressed tar nor a zip archive")
	}
	prog.Finish()
	if err == nil {
		err = os.Rename(tmp, dest)
	}
	if err != nil {
		_ = os.RemoveAll(tmp)
		return fmt.Errorf("fetch: unpacking %s: %w", archive, err)
	}
	syncDir(parent)
	return nil
}

// writer writes checked entries under root.
type writer struct {
	root  string
	lim   Limits
	files int
	total int64
}

// target checks an entry's name and returns where it goes under w.root.
func (w *writer) target(name string) (string, error) {
	w.files++
	if w.files > w.lim.MaxFiles {
		return "", fmt.Errorf("%w: more than %d entries", ErrUnsafeArchive, w.lim.MaxFiles)
	}
	clean := strings.TrimSuffix(name, "/")
	local := filepath.FromSlash(clean)
	if clean == "" || strings.Contains(clean, `\`) || !filepath.IsLocal(local) {
		return "", fmt.Errorf("%w: entry %q leaves the target folder", ErrUnsafeArchive, name)
	}
	return filepath.Join(w.root, local), nil
}

// checkSize refuses an entry of size bytes when it breaks a limit.
func (w *writer) checkSize(name string, size int64) error {
	if size < 0 || size > w.lim.MaxFileSize {
		return fmt.Errorf("%w: entry %q of %d bytes is over the limit of %d",
			ErrUnsafeArchive, name, size, w.lim.MaxFileSize)
	}
	if w.total+size > w.lim.MaxTotalSize {
		return fmt.Errorf("%w: entries add up to more than %d bytes",
			ErrUnsafeArchive, w.lim.MaxTotalSize)
	}
	return nil
}

// file writes one regular entry, refusing more than size bytes from r.
func (w *writer) file(dst, name string, size int64, r io.Reader) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	if err := w.noLinkAbove(dst); err != nil {
		return err
	}
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	n, err := io.Copy(out, io.LimitReader(r, size+1))
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	switch {
	case err != nil:
		return fmt.Errorf("entry %q: %w", name, err)
	case n > size:
		return fmt.Errorf("%w: entry %q holds more than its stated %d bytes",
			ErrUnsafeArchive, name, size)
	case n < size:
		return fmt.Errorf("entry %q: truncated: %d of %d bytes", name, n, size)
	}
	w.total += n
	return nil
}

// noLinkAbove makes sure no folder between w.root and dst is a link; Unpack
// never makes links, so this guards against surprises only.
func (w *writer) noLinkAbove(dst string) error {
	for d := filepath.Dir(dst); len(d) > len(w.root); d = filepath.Dir(d) {
		fi, err := os.Lstat(d)
		if err != nil {
			return err
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			return fmt.Errorf("%w: %s is a link", ErrUnsafeArchive, d)
		}
	}
	return nil
}

func (w *writer) tarGz(r io.Reader) error {
	zr, err := gzip.NewReader(bufio.NewReader(r))
	if err != nil {
		return fmt.Errorf("not gzip: %w", err)
	}
	tr := tar.NewReader(zr)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if errors.Is(err, tar.ErrInsecurePath) {
			return fmt.Errorf("%w: %w", ErrUnsafeArchive, err)
		}
		if err != nil {
			return fmt.Errorf("reading tar: %w", err)
		}
		if hdr.Typeflag == tar.TypeXGlobalHeader {
			continue
		}
		dst, err := w.target(hdr.Name)
		if err != nil {
			return err
		}
		switch hdr.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(dst, 0o755); err != nil {
				return err
			}
		case tar.TypeReg, tar.TypeRegA:
			if err := w.checkSize(hdr.Name, hdr.Size); err != nil {
				return err
			}
			if err := w.file(dst, hdr.Name, hdr.Size, tr); err != nil {
				return err
			}
		case tar.TypeSymlink, tar.TypeLink:
			return fmt.Errorf("%w: entry %q is a link", ErrUnsafeArchive, hdr.Name)
		default:
			return fmt.Errorf("%w: entry %q is not a regular file or folder (type %q)",
				ErrUnsafeArchive, hdr.Name, hdr.Typeflag)
		}
	}
}

func (w *writer) zip(r io.ReaderAt, size int64, prog *Progress) error {
	zr, err := zip.NewReader(r, size)
	if errors.Is(err, zip.ErrInsecurePath) {
		return fmt.Errorf("%w: %w", ErrUnsafeArchive, err)
	}
	if err != nil {
		return fmt.Errorf("reading zip: %w", err)
	}
	for _, zf := range zr.File {
		dst, err := w.target(zf.Name)
		if err != nil {
			return err
		}
		mode := zf.Mode()
		switch {
		case mode&fs.ModeSymlink != 0:
			return fmt.Errorf("%w: entry %q is a link", ErrUnsafeArchive, zf.Name)
		case mode.IsDir():
			if err := os.MkdirAll(dst, 0o755); err != nil {
				return err
			}
			continue
		case !mode.IsRegular():
			return fmt.Errorf("%w: entry %q is not a regular file or folder",
				ErrUnsafeArchive, zf.Name)
		}
		if zf.UncompressedSize64 > uint64(w.lim.MaxFileSize) {
			return fmt.Errorf("%w: entry %q of %d bytes is over the limit of %d",
				ErrUnsafeArchive, zf.Name, zf.UncompressedSize64, w.lim.MaxFileSize)
		}
		n := int64(zf.UncompressedSize64)
		if err := w.checkSize(zf.Name, n); err != nil {
			return err
		}
		rc, err := zf.Open()
		if err != nil {
			return fmt.Errorf("entry %q: %w", zf.Name, err)
		}
		err = w.file(dst, zf.Name, n, rc)
		_ = rc.Close()
		if err != nil {
			return err
		}
		prog.Add(int64(zf.CompressedSize64))
	}
	return nil
}
