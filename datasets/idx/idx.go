// Package idx reads and writes IDX files, the format of the MNIST and
// Fashion-MNIST images and labels, plain or gzip-compressed.
//
// An IDX file is a 4-byte magic number (two zero bytes, a type code, the
// number of dimensions), one big-endian uint32 per dimension, then the data.
// Only the unsigned-byte type (0x08) is supported, which is what those
// datasets use. The reader checks the header against the file's length, and
// limits, before it allocates anything.
package idx

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// TypeUint8 is the IDX type code of unsigned bytes.
const TypeUint8 = 0x08

// MaxBytes is the largest data part Read accepts: 1 GiB.
const MaxBytes = 1 << 30

// MaxDims is the largest number of dimensions Read accepts.
const MaxDims = 4

// ErrFormat reports bytes that are not a well-formed IDX file of unsigned bytes.
var ErrFormat = errors.New("not a valid IDX file")

// Array is the content of one IDX file.
type Array struct {
	Dims []int  // sizes of the dimensions, outermost first
	Data []byte // the elements in row-major order; len is the product of Dims
}

// ReadFile reads the IDX file at path, gunzipping it when it starts with the
// gzip magic bytes. A name ending in ".gz" must be gzip-compressed. Errors name
// the file and what is wrong with it, and wrap ErrFormat for malformed content.
func ReadFile(path string) (*Array, error) {
	a, err := readFile(path)
	if err != nil {
		return nil, fmt.Errorf("idx: %s: %w", path, err)
	}
	return a, nil
}

func readFile(path string) (*Array, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}

	var magic [2]byte
	if _, err := io.ReadFull(f, magic[:]); err != nil {
		return nil, fmt.Errorf("%w: file of %d bytes is too short", ErrFormat, fi.Size())
	}
	gzipped := magic == [2]byte{0x1f, 0x8b}
	if !gzipped && strings.HasSuffix(path, ".gz") {
		return nil, fmt.Errorf("%w: named .gz but not gzip-compressed", ErrFormat)
	}
	if !gzipped {
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return nil, err
		}
		return Read(f, fi.Size())
	}

	// gzip keeps the uncompressed length modulo 2^32 in its last 4 bytes; it is
	// the length to check the header against before allocating.
	if fi.Size() < 18+4 {
		return nil, fmt.Errorf("%w: gzip file of %d bytes is too short", ErrFormat, fi.Size())
	}
	var trailer [4]byte
	if _, err := f.ReadAt(trailer[:], fi.Size()-4); err != nil {
		return nil, err
	}
	size := int64(binary.LittleEndian.Uint32(trailer[:]))
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	zr, err := gzip.NewReader(bufio.NewReader(f))
	if err != nil {
		return nil, fmt.Errorf("%w: bad gzip stream: %v", ErrFormat, err)
	}
	zr.Multistream(false)
	return readSized(zr, size, true)
}

// Read reads an IDX file from r, whose uncompressed length is size bytes.
func Read(r io.Reader, size int64) (*Array, error) {
	return readSized(r, size, false)
}

// readSized parses the header, checks it against size (only modulo 2^32 when
// mod32 is set, as for a gzip trailer), allocates, reads the data and makes
// sure nothing follows.
func readSized(r io.Reader, size int64, mod32 bool) (*Array, error) {
	var head [4]byte
	if _, err := io.ReadFull(r, head[:]); err != nil {
		return nil, fmt.Errorf("%w: truncated header: %v", ErrFormat, err)
	}
	if head[0] != 0 || head[1] != 0 {
		return nil, fmt.Errorf("%w: bad magic number %#08x", ErrFormat,
			binary.BigEndian.Uint32(head[:]))
	}
	if head[2] != TypeUint8 {
		return nil, fmt.Errorf("%w: element type %#02x, want unsigned byte %#02x",
			ErrFormat, head[2], TypeUint8)
	}
	rank := int(head[3])
	if rank < 1 || rank > MaxDims {
		return nil, fmt.Errorf("%w: %d dimensions, want 1 to %d", ErrFormat, rank, MaxDims)
	}
	dimBytes := make([]byte, 4*rank)
	if _, err := io.ReadFull(r, dimBytes); err != nil {
		return nil, fmt.Errorf("%w: truncated header: %v", ErrFormat, err)
	}
	dims := make([]int, rank)
	for i := range dims {
		dims[i] = int(binary.BigEndian.Uint32(dimBytes[4*i:]))
	}
	n := int64(1)
	for i, d := range dims {
		if d == 0 {
			return nil, fmt.Errorf("%w: dimension %d is zero", ErrFormat, i)
		}
		n *= int64(d)
		if n > MaxBytes {
			return nil, fmt.Errorf("%w: dimensions %v hold more than %d bytes", ErrFormat,
				dims, MaxBytes)
		}
	}

	want := int64(4+4*rank) + n
	got := size
	if mod32 {
		want %= 1 << 32
	}
	if got != want && mod32 {
		return nil, fmt.Errorf("%w: dimensions %v need %d bytes after the %d-byte header, "+
			"but the gzip trailer gives a length of %d (truncated or corrupt file)",
			ErrFormat, dims, n, 4+4*rank, size)
	}
	if got != want {
		return nil, fmt.Errorf("%w: dimensions %v need %d bytes after the %d-byte header, "+
			"but the file holds %d", ErrFormat, dims, n, 4+4*rank, size-int64(4+4*rank))
	}

	data := make([]byte, n)
	if k, err := io.ReadFull(r, data); err != nil {
		return nil, fmt.Errorf("%w: truncated: %d of %d data bytes: %v", ErrFormat, k, n, err)
	}
	var extra [1]byte
	switch _, err := io.ReadFull(r, extra[:]); {
	case err == nil:
		return nil, fmt.Errorf("%w: bytes after the %d data bytes", ErrFormat, n)
	case err != io.EOF:
		return nil, fmt.Errorf("%w: after the data: %v", ErrFormat, err)
	}
	return &Array{Dims: dims, Data: data}, nil
}

// Write writes a as an IDX file of unsigned bytes to w.
func Write(w io.Writer, a *Array) error {
	if len(a.Dims) < 1 || len(a.Dims) > MaxDims {
		return fmt.Errorf("idx: %d dimensions, want 1 to %d", len(a.Dims), MaxDims)
	}
	n := 1
	for _, d := range a.Dims {
		n *= d
	}
	if n != len(a.Data) {
		return fmt.Errorf("idx: dimensions %v need %d bytes, data has %d", a.Dims, n, len(a.Data))
	}
	var head bytes.Buffer
	head.Write([]byte{0, 0, TypeUint8, byte(len(a.Dims))})
	for _, d := range a.Dims {
		_ = binary.Write(&head, binary.BigEndian, uint32(d))
	}
	if _, err := w.Write(head.Bytes()); err != nil {
		return fmt.Errorf("idx: %w", err)
	}
	if _, err := w.Write(a.Data); err != nil {
		return fmt.Errorf("idx: %w", err)
	}
	return nil
}

// WriteFile writes a to path, gzip-compressed when path ends in ".gz".
func WriteFile(path string, a *Array) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("idx: %w", err)
	}
	var w io.Writer = f
	var zw *gzip.Writer
	if strings.HasSuffix(path, ".gz") {
		zw = gzip.NewWriter(f)
		w = zw
	}
	err = Write(w, a)
	if zw != nil {
		if cerr := zw.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("idx: %w", cerr)
		}
	}
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("idx: %w", cerr)
	}
	return err
}

// ReadImages reads an IDX file of n images of h x w bytes (three dimensions).
func ReadImages(path string) (n, h, w int, pixels []uint8, err error) {
	a, err := ReadFile(path)
	if err != nil {
		return 0, 0, 0, nil, err
	}
	if len(a.Dims) != 3 {
		return 0, 0, 0, nil, fmt.Errorf("idx: %s: %w: %d dimensions %v, want 3 for images",
			path, ErrFormat, len(a.Dims), a.Dims)
	}
	return a.Dims[0], a.Dims[1], a.Dims[2], a.Data, nil
}

// ReadLabels reads an IDX file of labels (one dimension), each below classes.
func ReadLabels(path string, classes int) ([]uint8, error) {
	a, err := ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(a.Dims) != 1 {
		return nil, fmt.Errorf("idx: %s: %w: %d dimensions %v, want 1 for labels",
			path, ErrFormat, len(a.Dims), a.Dims)
	}
	for i, l := range a.Data {
		if int(l) >= classes {
			return nil, fmt.Errorf("idx: %s: label %d of item %d is out of range [0, %d)",
				path, l, i, classes)
		}
	}
	return a.Data, nil
}
