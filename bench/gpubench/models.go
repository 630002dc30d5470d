package main

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/dlexp/dlexp/datasets/imageset"
	"github.com/dlexp/dlexp/mlx/metrics"
	"github.com/dlexp/dlexp/mlx/train"
	"github.com/dlexp/dlexp/mlx/unet"
)

// Settings shared with the peer scripts (bench/peer_jax.py, bench/peer_torch.py): change them
// together.
const (
	noiseSigma   = 0.3  // standard deviation of the denoiser's Gaussian noise
	learningRate = 1e-3 // Adam's learning rate for every model
	numClasses   = 19   // Cityscapes' full class spectrum
)

// modelSpec is a model to time: its input shape and batch, its model and loss.
type modelSpec struct {
	name          string
	batch         int
	height, width int
	channels      int // input channels
	classes       int // > 0: per-pixel classification into classes; 0: denoising

	model train.Model
	loss  train.Loss
}

// lookupModel returns the spec of a model at the benchmark's shapes, or at tiny ones.
func lookupModel(name string, tiny bool) (modelSpec, error) {
	switch name {
	case "unet":
		s := modelSpec{name: "unet", batch: 256, height: 28, width: 28, channels: 1,
			model: denoiser, loss: metrics.MSE}
		if tiny {
			s.batch = 4
		}
		return s, nil
	case "fcdensenet":
		return fcDenseNetSpec(tiny), nil
	}
	return modelSpec{}, fmt.Errorf("gpubench: unknown model %q (have unet, fcdensenet)", name)
}

// denoiser is the MNIST denoiser: Gaussian noise is added in the graph to the clean images it
// gets, clipped to [0, 1], and the UNet is trained to take it away.
func denoiser(ctx *context.Context, clean *graph.Node) *graph.Node {
	noise := ctx.RandomNormal(clean.Graph(), clean.Shape())
	noisy := graph.ClipScalar(graph.Add(clean, graph.MulScalar(noise, noiseSigma)), 0, 1)
	return unet.Denoiser(ctx, noisy).Done()
}

// syntheticData returns n random examples of the spec's shapes: inputs in [0, 1) and, for
// classification, random class labels (nil labels for denoising: the inputs are the labels).
func syntheticData(s modelSpec, n int, seed uint64) (inputs, labels *tensors.Tensor) {
	rng := rand.New(rand.NewPCG(seed, seed+1))
	x := make([]float32, n*s.height*s.width*s.channels)
	for i := range x {
		x[i] = rng.Float32()
	}
	inputs = tensors.FromFlatDataAndDimensions(x, n, s.height, s.width, s.channels)
	if s.classes == 0 {
		return inputs, nil
	}
	y := make([]int32, n*s.height*s.width)
	for i := range y {
		y[i] = int32(rng.IntN(s.classes))
	}
	return inputs, tensors.FromFlatDataAndDimensions(y, n, s.height, s.width)
}

// stepClock records when each training step of a run ended.
type stepClock struct {
	start time.Time
	ends  []time.Time
	loss  float64
}

func (c *stepClock) onStep(_ int, loss float64) error {
	c.ends = append(c.ends, time.Now())
	c.loss = loss
	return nil
}

// fit trains a fresh model of the spec with mlx/train for epochs epochs over inputs and
// labels (labels nil: the inputs), timing every step.
func fit(b backends.Backend, s modelSpec, inputs, labels *tensors.Tensor, epochs int) (
	*stepClock, *train.Result, error) {
	var lab []*tensors.Tensor
	if labels != nil {
		lab = []*tensors.Tensor{labels}
	}
	ds, err := imageset.InMemory(b, s.name, []*tensors.Tensor{inputs}, lab)
	if err != nil {
		return nil, nil, err
	}
	clock := &stepClock{start: time.Now()}
	res, err := train.New(b, context.New(), s.model).Loss(s.loss).Data(ds, nil).
		Epochs(epochs).BatchSize(s.batch).LearningRate(learningRate).Seed(1).
		Progress(false).HandleInterrupt(false).OnStep(clock.onStep).Run()
	if err != nil {
		return nil, nil, err
	}
	return clock, res, nil
}

// timeSteps trains a fresh model on warmup+steps batches of synthetic data through mlx/train,
// as a notebook does. The first warmup steps (the first one compiles) are left out of the
// images/s.
func timeSteps(b backends.Backend, s modelSpec, warmup, steps int) (result, error) {
	warmup = max(warmup, 1)
	inputs, labels := syntheticData(s, (warmup+steps)*s.batch, 1)
	clock, _, err := fit(b, s, inputs, labels, 1)
	if err != nil {
		return result{}, err
	}
	if len(clock.ends) != warmup+steps {
		return result{}, fmt.Errorf("%d steps ran, want %d", len(clock.ends), warmup+steps)
	}
	timed := clock.ends[warmup+steps-1].Sub(clock.ends[warmup-1])
	return result{
		Framework:  "dlexp",
		Model:      s.name,
		Batch:      s.batch,
		Shape:      []int{s.height, s.width, s.channels},
		Steps:      steps,
		CompileS:   clock.ends[0].Sub(clock.start).Seconds(),
		StepMS:     timed.Seconds() * 1000 / float64(max(steps, 1)),
		ImagesPerS: float64(s.batch*steps) / timed.Seconds(),
		Loss:       clock.loss,
	}, nil
}
