// Package cifar loads CIFAR-10 and CIFAR-100 from their published binary
// versions: 32 x 32 color images, 50,000 for training and 10,000 for test.
//
// CIFAR-10 comes as data_batch_1.bin to data_batch_5.bin and test_batch.bin,
// each a run of records of 1 label byte and 3,072 pixel bytes (the red, green
// and blue planes of 1,024 bytes, rows top to bottom), with the class names in
// batches.meta.txt. CIFAR-100 comes as train.bin and test.bin, records of a
// coarse label byte, a fine label byte and 3,072 pixel bytes, with the names in
// coarse_label_names.txt and fine_label_names.txt.
//
// Load10 and Load100 fetch the publisher's tar.gz into the data cache, checked
// against the publisher's MD5, unpack it there and read it. Read10 and Read100
// read an unpacked folder. Images come back with channels last (H, W, C), as
// the other loaders give them; CIFAR-100 sets carry fine labels in Labels and
// coarse ones in CoarseLabels.
package cifar

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/dlexp/dlexp/datasets/fetch"
	"github.com/dlexp/dlexp/datasets/imageset"
)

// Set is a labelled image set; see package imageset.
type Set = imageset.Set

// Split names one of the two published parts.
type Split string

// The published splits.
const (
	Train Split = "train"
	Test  Split = "test"
)

// Image size.
const (
	Height   = 32
	Width    = 32
	Channels = 3
	// ImageBytes is the number of pixel bytes of one record.
	ImageBytes = Height * Width * Channels
)

// MaxRecords bounds the records read from one file, far above the published
// 50,000.
const MaxRecords = 1 << 20

// Archive is a published tar.gz of one of the datasets.
type Archive struct {
	File   fetch.File // where the tar.gz goes in the cache, with its MD5 and URL
	Folder string     // the folder the archive unpacks to
}

// CIFAR10 and CIFAR100 are the publisher's binary archives.
var (
	CIFAR10 = Archive{
		File: fetch.File{Name: "cifar/cifar-10-binary.tar.gz",
			MD5:     "c32a1d4ab5d03f1284b67883e8d87530",
			Sources: []fetch.Source{fetch.URL("https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz")}},
		Folder: "cifar-10-batches-bin",
	}
	CIFAR100 = Archive{
		File: fetch.File{Name: "cifar/cifar-100-binary.tar.gz",
			MD5:     "03b5dce01913d631647c71ecec9e9cb8",
			Sources: []fetch.Source{fetch.URL("https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz")}},
		Folder: "cifar-100-binary",
	}
)

// Load10 returns a split of CIFAR-10 from the default data cache, fetching and
// unpacking the archive when needed.
func Load10(split Split) (*Set, error) { return Load10With(context.Background(), nil, split) }

// Load100 returns a split of CIFAR-100 from the default data cache, fetching
// and unpacking the archive when needed.
func Load100(split Split) (*Set, error) { return Load100With(context.Background(), nil, split) }

// Load10With is Load10 with a context and a Fetcher (nil: the default cache).
func Load10With(ctx context.Context, fr *fetch.Fetcher, split Split) (*Set, error) {
	dir, err := Unpacked(ctx, fr, CIFAR10)
	if err != nil {
		return nil, err
	}
	return Read10(dir, split)
}

// Load100With is Load100 with a context and a Fetcher (nil: the default cache).
func Load100With(ctx context.Context, fr *fetch.Fetcher, split Split) (*Set, error) {
	dir, err := Unpacked(ctx, fr, CIFAR100)
	if err != nil {
		return nil, err
	}
	return Read100(dir, split)
}

// Unpacked returns the folder of a's unpacked files in the cache, fetching and
// unpacking the archive when the folder is not there yet.
func Unpacked(ctx context.Context, fr *fetch.Fetcher, a Archive) (string, error) {
	if fr == nil {
		fr = &fetch.Fetcher{}
	}
	archive, err := fr.Path(a.File)
	if err != nil {
		return "", fmt.Errorf("cifar: %w", err)
	}
	unpacked := strings.TrimSuffix(archive, ".tar.gz")
	dir := filepath.Join(unpacked, a.Folder)
	if _, err := os.Stat(dir); err == nil {
		return dir, nil
	}
	if _, err := fr.Fetch(ctx, a.File); err != nil {
		return "", fmt.Errorf("cifar: %w", err)
	}
	// A leftover folder without a.Folder inside came from another archive.
	if err := os.RemoveAll(unpacked); err != nil {
		return "", fmt.Errorf("cifar: %w", err)
	}
	unpack := fetch.Unpack
	if fr.Quiet {
		unpack = fetch.UnpackQuiet
	}
	if err := unpack(archive, unpacked, fetch.Limits{MaxFiles: 100, MaxFileSize: 1 << 30,
		MaxTotalSize: 2 << 30}); err != nil {
		return "", fmt.Errorf("cifar: %w", err)
	}
	if _, err := os.Stat(dir); err != nil {
		_ = os.RemoveAll(unpacked)
		return "", fmt.Errorf("cifar: %s does not hold the folder %s", archive, a.Folder)
	}
	return dir, nil
}

// Read10 reads a split of CIFAR-10 from dir, a folder unpacked from
// cifar-10-binary.tar.gz (cifar-10-batches-bin).
func Read10(dir string, split Split) (*Set, error) {
	var files []string
	switch split {
	case Train:
		for i := 1; i <= 5; i++ {
			files = append(files, fmt.Sprintf("data_batch_%d.bin", i))
		}
	case Test:
		files = []string{"test_batch.bin"}
	default:
		return nil, fmt.Errorf("cifar: unknown split %q (want %q or %q)", split, Train, Test)
	}
	names, err := readNames(filepath.Join(dir, "batches.meta.txt"), 10)
	if err != nil {
		return nil, err
	}
	s := &Set{Name: "cifar10/" + string(split), Source: dir, H: Height, W: Width, C: Channels,
		NumClasses: 10, ClassNames: names}
	for _, f := range files {
		if err := readRecords(filepath.Join(dir, f), s, false); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Read100 reads a split of CIFAR-100 from dir, a folder unpacked from
// cifar-100-binary.tar.gz (cifar-100-binary).
func Read100(dir string, split Split) (*Set, error) {
	if split != Train && split != Test {
		return nil, fmt.Errorf("cifar: unknown split %q (want %q or %q)", split, Train, Test)
	}
	fine, err := readNames(filepath.Join(dir, "fine_label_names.txt"), 100)
	if err != nil {
		return nil, err
	}
	coarse, err := readNames(filepath.Join(dir, "coarse_label_names.txt"), 20)
	if err != nil {
		return nil, err
	}
	s := &Set{Name: "cifar100/" + string(split), Source: dir, H: Height, W: Width, C: Channels,
		NumClasses: 100, ClassNames: fine, CoarseLabels: []uint8{}, NumCoarse: 20,
		CoarseNames: coarse}
	if err := readRecords(filepath.Join(dir, string(split)+".bin"), s, true); err != nil {
		return nil, err
	}
	return s, nil
}

// readNames reads a file of class names, one a line, ignoring blank lines; it
// must hold exactly n.
func readNames(path string, n int) ([]string, error) {
	b, err := readSmall(path, 1<<20)
	if err != nil {
		return nil, fmt.Errorf("cifar: class names: %w", err)
	}
	var names []string
	for line := range strings.SplitSeq(string(b), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			names = append(names, line)
		}
	}
	if len(names) != n {
		return nil, fmt.Errorf("cifar: %s: %d class names, want %d", path, len(names), n)
	}
	return names, nil
}

func readSmall(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, limit)
	}
	return b, nil
}

// readRecords appends the records of one binary file to s, checking the length
// before allocating and every label after reading.
func readRecords(path string, s *Set, coarse bool) error {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("cifar: missing batch file %s", path)
	}
	if err != nil {
		return fmt.Errorf("cifar: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("cifar: %w", err)
	}

	head := 1
	if coarse {
		head = 2
	}
	rec := int64(head + ImageBytes)
	size := fi.Size()
	if size == 0 || size%rec != 0 {
		return fmt.Errorf("cifar: %s: length %d is not a whole number of %d-byte records "+
			"(wrong record size or truncated file)", path, size, rec)
	}
	n := int(size / rec)
	if s.N+n > MaxRecords {
		return fmt.Errorf("cifar: %s: more than %d records", path, MaxRecords)
	}

	raw := make([]byte, size)
	if _, err := io.ReadFull(f, raw); err != nil {
		return fmt.Errorf("cifar: %s: %w", path, err)
	}
	s.Pixels = growBytes(s.Pixels, n*ImageBytes)
	start := s.N
	for i := range n {
		r := raw[int64(i)*rec : int64(i+1)*rec]
		label := r[head-1]
		if int(label) >= s.NumClasses {
			return fmt.Errorf("cifar: %s: record %d: label %d is out of range [0, %d)",
				path, i, label, s.NumClasses)
		}
		s.Labels = append(s.Labels, label)
		if coarse {
			if int(r[0]) >= s.NumCoarse {
				return fmt.Errorf("cifar: %s: record %d: coarse label %d is out of range [0, %d)",
					path, i, r[0], s.NumCoarse)
			}
			s.CoarseLabels = append(s.CoarseLabels, r[0])
		}
		planesToHWC(s.Pixels[(start+i)*ImageBytes:(start+i+1)*ImageBytes], r[head:])
	}
	s.N += n
	return nil
}

// growBytes returns b extended by n zero bytes.
func growBytes(b []byte, n int) []byte {
	return append(b, make([]byte, n)...)
}

// planesToHWC turns the three 1,024-byte color planes of src into pixels with
// channels last in dst.
func planesToHWC(dst, src []byte) {
	const plane = Height * Width
	for p := range plane {
		dst[3*p] = src[p]
		dst[3*p+1] = src[plane+p]
		dst[3*p+2] = src[2*plane+p]
	}
}
