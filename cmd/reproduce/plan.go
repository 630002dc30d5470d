package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/dlexp/dlexp/datasets/catalog"
	"github.com/dlexp/dlexp/datasets/cifar"
	"github.com/dlexp/dlexp/datasets/cityscapes"
	"github.com/dlexp/dlexp/datasets/fetch"
)

// experiment is one notebook and the datasets it runs on.
type experiment struct {
	notebook string
	datasets []string
}

// imageDatasets are the datasets of the image-to-image notebooks, in the order they run.
var imageDatasets = []string{"mnist", "fashion-mnist", "cifar10", "cifar100"}

// experiments lists the notebooks in the order they run.
var experiments = []experiment{
	{"denoiser", imageDatasets},
	{"identity", imageDatasets},
	{"superresolution", imageDatasets},
	{"pixels_mnist", []string{"mnist"}},
	{"cityscapes", []string{"cityscapes"}},
}

// findExperiment returns the experiment of a notebook name.
func findExperiment(name string) (experiment, bool) {
	for _, e := range experiments {
		if e.notebook == name {
			return e, true
		}
	}
	return experiment{}, false
}

// experimentNames lists the notebooks reproduce knows.
func experimentNames() []string {
	var names []string
	for _, e := range experiments {
		names = append(names, e.notebook)
	}
	return names
}

// runSpec is one notebook to execute on one dataset.
type runSpec struct {
	notebook, dataset string
}

// skip is a dataset left out, with how to get it.
type skip struct {
	Dataset string
	Why     string
}

// plan is what reproduce will run and what it leaves out.
type plan struct {
	runs    []runSpec
	skipped []skip
}

// planRuns lists the runs of the chosen notebooks on the chosen datasets that are present,
// printing one line for each dataset left out.
func planRuns(ctx context.Context, o options, w io.Writer) plan {
	var p plan
	present := map[string]error{}
	for _, e := range experiments {
		if len(o.notebooks) > 0 && !slices.Contains(o.notebooks, e.notebook) {
			continue
		}
		for _, ds := range e.datasets {
			if len(o.datasets) > 0 && !slices.Contains(o.datasets, ds) {
				continue
			}
			err, seen := present[ds]
			if !seen {
				err = available(ctx, ds, o.size == "full")
				present[ds] = err
				if err != nil {
					p.skipped = append(p.skipped, skip{Dataset: ds, Why: err.Error()})
					fmt.Fprintf(w, "reproduce: skipping %s: %v\n", ds, err)
				}
			}
			if err == nil {
				p.runs = append(p.runs, runSpec{notebook: e.notebook, dataset: ds})
			}
		}
	}
	return p
}

// available reports why dataset cannot be used now, or nil when it can. With download
// false, CIFAR counts only when it is already in the data cache.
func available(ctx context.Context, dataset string, download bool) error {
	switch dataset {
	case "cityscapes":
		return cityscapesAvailable()
	case "cifar10", "cifar100":
		if !download {
			return cifarCached(dataset)
		}
	}
	if _, err := catalog.Load(dataset, catalog.Test); err != nil {
		return firstLine(err)
	}
	return ctx.Err()
}

// cifarCached reports whether the CIFAR archive of dataset, or its unpacked folder, is in
// the data cache.
func cifarCached(dataset string) error {
	a := cifar.CIFAR10
	if dataset == "cifar100" {
		a = cifar.CIFAR100
	}
	archive, err := (&fetch.Fetcher{}).Path(a.File)
	if err != nil {
		return err
	}
	unpacked := filepath.Join(strings.TrimSuffix(archive, ".tar.gz"), a.Folder)
	for _, p := range []string{archive, unpacked} {
		if _, err := os.Stat(p); err == nil {
			return nil
		}
	}
	return fmt.Errorf("not in the data cache (%s), and only the full size downloads: "+
		"put the publisher's %s there, or run with -size full online", archive,
		filepath.Base(archive))
}

// cityscapesAvailable reports whether $CITYSCAPES_DATASET names a readable Cityscapes folder.
func cityscapesAvailable() error {
	root := os.Getenv(cityscapes.EnvDataset)
	if root == "" {
		return fmt.Errorf("$%s is not set: register at www.cityscapes-dataset.com, download "+
			"gtFine, leftImg8bit, leftImg16bit and disparity (the *_trainvaltest.zip files) "+
			"into one folder and set %s to it", cityscapes.EnvDataset, cityscapes.EnvDataset)
	}
	d, err := cityscapes.Open(root)
	if err != nil {
		return err
	}
	return d.Close()
}

// firstLine returns err with its message cut to its first line.
func firstLine(err error) error {
	msg, _, _ := strings.Cut(err.Error(), "\n")
	return errors.New(msg)
}
