package main

import (
	stdcontext "context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"time"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/tensors"

	"github.com/dlexp/dlexp/datasets/fetch"
	"github.com/dlexp/dlexp/datasets/mnist"
)

// mnistTimeout bounds the search for MNIST in "auto" mode, so that a machine without network
// falls back to synthetic images quickly.
const mnistTimeout = 60 * time.Second

// trainImages are the MNIST training images as floats in [0, 1], one 28x28 image after another.
type trainImages struct {
	pixels []float32
	n      int
	source string
}

// loadMNIST returns the MNIST training images from where opts.mnist says, or synthetic ones of
// the same count and shape when "auto" finds none.
func loadMNIST(opts options) (trainImages, error) {
	const synthN = 60000
	if opts.tiny {
		return synthetic(12), nil // three tiny batches
	}
	var set *mnist.Set
	var err error
	switch opts.mnist {
	case "synthetic":
		return synthetic(synthN), nil
	case "auto":
		ctx, cancel := stdcontext.WithTimeout(stdcontext.Background(), mnistTimeout)
		defer cancel()
		set, err = mnist.LoadWith(ctx, &fetch.Fetcher{Quiet: true}, mnist.Train)
		if err != nil {
			s := synthetic(synthN)
			s.source = fmt.Sprintf("synthetic (MNIST not found: %v)", err)
			return s, nil
		}
	default:
		set, err = mnist.ReadFiles("mnist/train",
			filepath.Join(opts.mnist, "train-images-idx3-ubyte.gz"),
			filepath.Join(opts.mnist, "train-labels-idx1-ubyte.gz"))
		if err != nil {
			return trainImages{}, err
		}
	}
	if set.H != 28 || set.W != 28 || set.C != 1 {
		return trainImages{}, fmt.Errorf("MNIST images of %dx%dx%d, want 28x28x1", set.H, set.W, set.C)
	}
	return trainImages{pixels: set.Float32(), n: set.N, source: "MNIST " + set.Source}, nil
}

// synthetic returns n random 28x28 images.
func synthetic(n int) trainImages {
	rng := rand.New(rand.NewPCG(7, 8))
	px := make([]float32, n*28*28)
	for i := range px {
		px[i] = rng.Float32()
	}
	return trainImages{pixels: px, n: n, source: "synthetic"}
}

// timeEpochs trains a fresh MNIST denoiser for opts.epochs epochs through mlx/train, as a
// notebook does. The wall time counts everything from the start of the run (data upload and
// compilation included) to the end of the last step.
func timeEpochs(b backends.Backend, opts options) (result, error) {
	spec, err := lookupModel("unet", opts.tiny)
	if err != nil {
		return result{}, err
	}
	data, err := loadMNIST(opts)
	if err != nil {
		return result{}, err
	}
	if data.n < spec.batch {
		return result{}, fmt.Errorf("%d images are less than a batch of %d", data.n, spec.batch)
	}
	images := tensors.FromFlatDataAndDimensions(data.pixels, data.n, 28, 28, 1)
	clock, res, err := fit(b, spec, images, nil, opts.epochs)
	if err != nil {
		return result{}, err
	}
	if len(clock.ends) == 0 {
		return result{}, fmt.Errorf("no step ran")
	}
	wall := clock.ends[len(clock.ends)-1].Sub(clock.start)
	return result{
		Framework:  "dlexp",
		Model:      "unet",
		Batch:      spec.batch,
		Shape:      []int{28, 28, 1},
		Steps:      res.Steps,
		CompileS:   clock.ends[0].Sub(clock.start).Seconds(),
		StepMS:     res.StepTime.Seconds() * 1000,
		ImagesPerS: float64(len(clock.ends)*spec.batch) / wall.Seconds(),
		Loss:       clock.loss,
		Epochs:     res.Epochs,
		WallS:      wall.Seconds(),
		Data:       data.source,
	}, nil
}
