package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"github.com/dlexp/dlexp/datasets/cityscapes"
	"github.com/dlexp/dlexp/datasets/mnist"
)

// mnistFiles returns the gzipped IDX images and labels of MNIST's training split, from the
// Go module that carries them (in the module cache; the go command is asked where).
func mnistFiles() (images, labels string, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir, err := mnist.ModuleDir(ctx)
	if err != nil {
		return "", "", fmt.Errorf("MNIST files not found: %w", err)
	}
	images = filepath.Join(dir, "data", "train-images-idx3-ubyte.gz")
	labels = filepath.Join(dir, "data", "train-labels-idx1-ubyte.gz")
	for _, f := range []string{images, labels} {
		if _, err := os.Stat(f); err != nil {
			return "", "", fmt.Errorf("MNIST files not found: %w", err)
		}
	}
	return images, labels, nil
}

// measureMNIST times reading and decoding MNIST's training split (images and labels) with
// datasets/mnist.
func measureMNIST(p params, _ string, o options) (measurement, error) {
	var m measurement
	seconds, cpu, err := timeRepeats(o.warmup, o.repeats, func() error {
		set, err := mnist.ReadFiles("mnist/train", p.Images, p.Labels)
		if err != nil {
			return err
		}
		m.Items = set.N
		return nil
	})
	m.Seconds, m.CPU = seconds, cpu
	return m, err
}

// cityscapesFrame is a synthetic full-size frame: 8-bit color, 16-bit disparity and label
// ids, in the layouts the Cityscapes readers return.
type cityscapesFrame struct {
	h, w      int
	rgb       []uint8
	disparity []uint16
	labels    []uint8
}

// syntheticFrame returns a frame of random pixels; labels come in 16x16 patches of one
// class, as regions do in real frames, and a tenth of the disparities are invalid (0).
func syntheticFrame(h, w int) cityscapesFrame {
	rng := rand.New(rand.NewPCG(3, 4))
	f := cityscapesFrame{h: h, w: w, rgb: make([]uint8, 3*h*w), disparity: make([]uint16, h*w),
		labels: make([]uint8, h*w)}
	for i := range f.rgb {
		f.rgb[i] = uint8(rng.IntN(256))
	}
	for i := range f.disparity {
		if rng.IntN(10) > 0 {
			f.disparity[i] = uint16(1 + rng.IntN(65535))
		}
	}
	patches := make([]uint8, (h/16+1)*(w/16+1))
	for i := range patches {
		patches[i] = uint8(rng.IntN(cityscapes.NumLabels))
	}
	for y := range h {
		for x := range w {
			f.labels[y*w+x] = patches[(y/16)*(w/16+1)+x/16]
		}
	}
	return f
}

// measureCityscapes times the preprocessing of one frame: color, disparity and labels
// downscaled by the factor with datasets/cityscapes.
func measureCityscapes(p params, _ string, o options) (measurement, error) {
	f := syntheticFrame(p.Height, p.Width)
	m := measurement{Items: 1}
	var err error
	m.Seconds, m.CPU, err = timeRepeats(o.warmup, o.repeats, func() error {
		cityscapes.DownscaleColor8(f.rgb, f.h, f.w, p.Factor)
		cityscapes.DownscaleDisparity(f.disparity, f.h, f.w, p.Factor)
		_, err := cityscapes.DownscaleLabels(f.labels, f.h, f.w, p.Factor)
		return err
	})
	return m, err
}
