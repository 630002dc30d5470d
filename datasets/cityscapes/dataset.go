// Package cityscapes reads the Cityscapes dataset for semantic segmentation
// from the folder named by $CITYSCAPES_DATASET, as unpacked from the official
// zips (leftImg8bit/, leftImg16bit/, disparity/, gtFine/) or the zips
// themselves (leftImg8bit_trainvaltest.zip and so on) lying in that folder.
//
// The experiments use color (8-bit, or 16-bit HDR) and disparity as input and
// the fine label ids as target, all downscaled by 8 (2048 x 1024 to 256 x 128):
// color by averaging each 8 x 8 block; disparity by averaging the valid pixels
// of each block (a stored value v of 0 is invalid, others mean (v-1)/256
// pixels), 0 where none is valid; labels by the most frequent label id of each
// block, so classes are never mixed (ties go to the smaller id).
//
// The 2,975 finely annotated training frames are split by city into 2,472 for
// training (14 cities) and 503 for test (TestCities); the official 500
// validation frames are for validation. Test images of the official test set
// carry no labels and are not used.
//
// Downscaled splits are kept in the data cache (see package fetch), so the
// full-size PNGs are decoded once.
package cityscapes

import (
	"archive/zip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

// EnvDataset is the environment variable naming the dataset folder.
const EnvDataset = "CITYSCAPES_DATASET"

// Split names a part of the dataset used by the experiments.
type Split string

// The parts: Train and Test divide the official training frames by city; Val
// is the official validation set.
const (
	Train Split = "train"
	Test  Split = "test"
	Val   Split = "val"
)

// TestCities are the official training cities whose frames form Test: the
// last four in alphabetical order, 503 frames of the 2,975.
var TestCities = []string{"tubingen", "ulm", "weimar", "zurich"}

// Published sizes of the splits, checked when the whole dataset is present.
const (
	TrainFrames = 2472
	TestFrames  = 503
	ValFrames   = 500
)

// The folders of the dataset, each also found in <folder>_trainvaltest.zip.
const (
	Color8    = "leftImg8bit"
	Color16   = "leftImg16bit"
	Disparity = "disparity"
	GtFine    = "gtFine"
)

// Frame names one annotated frame, such as aachen_000000_000019 in train.
type Frame struct {
	Official string // the official split folder: "train" or "val"
	City     string
	ID       string // city_sequence_frame
}

// file returns the slash path of the frame's file of kind inside that kind's
// folder, such as train/aachen/aachen_000000_000019_leftImg8bit.png.
func (f Frame) file(kind string) string {
	suffix := kind
	if kind == GtFine {
		suffix = "gtFine_labelIds"
	}
	return path.Join(f.Official, f.City, f.ID+"_"+suffix+".png")
}

// Dataset is an opened Cityscapes folder.
type Dataset struct {
	Root string

	kinds   map[string]fs.FS
	from    map[string]string // where each kind was found, for messages
	closers []io.Closer
}

// Open opens the dataset folder root ("" means $CITYSCAPES_DATASET). It finds
// each of the four kinds as a folder or, failing that, as the official zip.
// gtFine must be there; the others are needed only when asked for.
func Open(root string) (*Dataset, error) {
	if root == "" {
		root = os.Getenv(EnvDataset)
	}
	if root == "" {
		return nil, fmt.Errorf("cityscapes: no dataset folder: set %s to the folder holding "+
			"gtFine/ and leftImg8bit/ (or their _trainvaltest.zip files)", EnvDataset)
	}
	fi, err := os.Stat(root)
	if err != nil {
		return nil, fmt.Errorf("cityscapes: dataset folder: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("cityscapes: %s is not a folder", root)
	}

	d := &Dataset{Root: root, kinds: map[string]fs.FS{}, from: map[string]string{}}
	for _, kind := range []string{Color8, Color16, Disparity, GtFine} {
		dir := filepath.Join(root, kind)
		if fi, err := os.Stat(dir); err == nil && fi.IsDir() {
			d.kinds[kind] = os.DirFS(dir)
			d.from[kind] = dir
			continue
		}
		zipPath := filepath.Join(root, kind+"_trainvaltest.zip")
		if _, err := os.Stat(zipPath); err != nil {
			continue
		}
		zr, err := zip.OpenReader(zipPath)
		if err != nil {
			_ = d.Close()
			return nil, fmt.Errorf("cityscapes: %s: %w", zipPath, err)
		}
		d.closers = append(d.closers, zr)
		sub, err := fs.Sub(zr, kind)
		if err != nil {
			_ = d.Close()
			return nil, fmt.Errorf("cityscapes: %s: %w", zipPath, err)
		}
		d.kinds[kind] = sub
		d.from[kind] = zipPath + ":" + kind
	}
	if _, ok := d.kinds[GtFine]; !ok {
		_ = d.Close()
		return nil, fmt.Errorf("cityscapes: %s holds neither %s/ nor %s_trainvaltest.zip",
			root, GtFine, GtFine)
	}
	return d, nil
}

// Close releases the zips the dataset reads from.
func (d *Dataset) Close() error {
	var errs []error
	for _, c := range d.closers {
		errs = append(errs, c.Close())
	}
	d.closers = nil
	return errors.Join(errs...)
}

// where returns a readable location of the file of kind, for messages.
func (d *Dataset) where(kind, file string) string {
	from, ok := d.from[kind]
	if !ok {
		from = filepath.Join(d.Root, kind)
	}
	if strings.Contains(from, ".zip:") {
		return from + "/" + file
	}
	return filepath.Join(from, filepath.FromSlash(file))
}

// Frames lists the frames of split, sorted by city and id: those with a fine
// label image in gtFine/<official split>/<city>/.
func (d *Dataset) Frames(split Split) ([]Frame, error) {
	official := "train"
	switch split {
	case Train, Test:
	case Val:
		official = "val"
	default:
		return nil, fmt.Errorf("cityscapes: unknown split %q (want %q, %q or %q)",
			split, Train, Test, Val)
	}
	gt := d.kinds[GtFine]
	cities, err := fs.ReadDir(gt, official)
	if err != nil {
		return nil, fmt.Errorf("cityscapes: listing %s: %w", d.where(GtFine, official), err)
	}
	var frames []Frame
	all := 0
	for _, c := range cities {
		if !c.IsDir() {
			continue
		}
		test := slices.Contains(TestCities, c.Name())
		if split == Train && test || split == Test && !test {
			all += d.count(official, c.Name())
			continue
		}
		entries, err := fs.ReadDir(gt, path.Join(official, c.Name()))
		if err != nil {
			return nil, fmt.Errorf("cityscapes: listing %s: %w",
				d.where(GtFine, path.Join(official, c.Name())), err)
		}
		for _, e := range entries {
			id, ok := strings.CutSuffix(e.Name(), "_gtFine_labelIds.png")
			if !ok || e.IsDir() {
				continue
			}
			if !strings.HasPrefix(id, c.Name()+"_") {
				return nil, fmt.Errorf("cityscapes: %s is not named after its city %s",
					d.where(GtFine, path.Join(official, c.Name(), e.Name())), c.Name())
			}
			frames = append(frames, Frame{Official: official, City: c.Name(), ID: id})
		}
	}
	all += len(frames)
	if len(frames) == 0 {
		return nil, fmt.Errorf("cityscapes: no *_gtFine_labelIds.png files for split %s in %s",
			split, d.where(GtFine, official))
	}
	// With the whole training set present, the split must have its published size.
	want := map[Split]int{Train: TrainFrames, Test: TestFrames, Val: ValFrames}[split]
	if official == "train" && all == TrainFrames+TestFrames && len(frames) != want {
		return nil, fmt.Errorf("cityscapes: split %s has %d frames, want %d: are the city "+
			"folders of %s complete?", split, len(frames), want, d.where(GtFine, official))
	}
	slices.SortFunc(frames, func(a, b Frame) int { return strings.Compare(a.ID, b.ID) })
	return frames, nil
}

// count returns the number of label images of one city.
func (d *Dataset) count(official, city string) int {
	entries, _ := fs.ReadDir(d.kinds[GtFine], path.Join(official, city))
	n := 0
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), "_gtFine_labelIds.png") {
			n++
		}
	}
	return n
}
