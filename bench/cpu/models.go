package main

import (
	"fmt"
	"math/rand/v2"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
	gomlxtrain "github.com/gomlx/gomlx/pkg/ml/train"
	"github.com/gomlx/gomlx/pkg/ml/train/optimizers"

	"github.com/dlexp/dlexp/mlx/cpubackend"
	"github.com/dlexp/dlexp/mlx/fcdensenet"
	"github.com/dlexp/dlexp/mlx/metrics"
	"github.com/dlexp/dlexp/mlx/train"
	"github.com/dlexp/dlexp/mlx/unet"
)

// backendConfig returns the "cpu" backend configuration of an implementation.
func backendConfig(impl string) (string, error) {
	switch impl {
	case implDlexp:
		return "", nil
	case implBaseline:
		return "kernels=off", nil
	}
	return "", fmt.Errorf("implementation %q does not run on the cpu backend", impl)
}

// modelOf returns the model of a case's parameters.
func modelOf(p params) (train.Model, error) {
	switch p.Model {
	case "unet":
		if p.Preset != "Denoiser" {
			return nil, fmt.Errorf("unet preset %q: only Denoiser is benchmarked", p.Preset)
		}
		return func(ctx *context.Context, x *graph.Node) *graph.Node {
			return unet.Denoiser(ctx, x).Done()
		}, nil
	case "fcdensenet":
		presets := map[string]func(*context.Context, *graph.Node, int) *fcdensenet.Config{
			"FCDenseNet56": fcdensenet.FCDenseNet56, "FCDenseNet103": fcdensenet.FCDenseNet103,
			"Tiny": fcdensenet.Tiny,
		}
		preset, ok := presets[p.Preset]
		if !ok {
			return nil, fmt.Errorf("fcdensenet preset %q unknown", p.Preset)
		}
		return func(ctx *context.Context, x *graph.Node) *graph.Node {
			return preset(ctx, x, p.Classes).Dropout(p.Dropout).Done()
		}, nil
	}
	return nil, fmt.Errorf("model %q unknown", p.Model)
}

// modelData returns a batch of random inputs in [0, 1) and targets: images in [0, 1) for
// the UNet, labels in [0, classes] for FC-DenseNet (classes itself is void).
func modelData(p params) (x, y *tensors.Tensor) {
	rng := rand.New(rand.NewPCG(1, 2))
	in := make([]float32, p.Batch*p.Height*p.Width*p.Channels)
	for i := range in {
		in[i] = rng.Float32()
	}
	x = tensors.FromFlatDataAndDimensions(in, p.Batch, p.Height, p.Width, p.Channels)
	if p.Model == "unet" {
		out := make([]float32, len(in))
		for i := range out {
			out[i] = rng.Float32()
		}
		return x, tensors.FromFlatDataAndDimensions(out, p.Batch, p.Height, p.Width,
			p.Channels)
	}
	labels := make([]int32, p.Batch*p.Height*p.Width)
	for i := range labels {
		labels[i] = int32(rng.IntN(p.Classes + 1))
	}
	return x, tensors.FromFlatDataAndDimensions(labels, p.Batch, p.Height, p.Width)
}

// measureModel times a training step (Adam, the model's loss) or a forward pass (inference
// mode) of a model on the cpu backend.
func measureModel(p params, impl string, o options) (measurement, error) {
	m := measurement{Items: p.Batch, Note: "micro-kernel " + cpubackend.MicroKernel()}
	config, err := backendConfig(impl)
	if err != nil {
		return m, err
	}
	backend, err := cpubackend.New(config)
	if err != nil {
		return m, err
	}
	defer backend.Finalize()
	model, err := modelOf(p)
	if err != nil {
		return m, err
	}
	if m.Params, err = train.CountParameters(backend, model, p.Height, p.Width,
		p.Channels); err != nil {
		return m, err
	}
	x, y := modelData(p)

	var step func() error
	switch p.Mode {
	case "train":
		step, err = trainStep(backend, p, model, x, y)
	case "forward":
		step, err = forwardPass(backend, model, x)
	default:
		err = fmt.Errorf("mode %q unknown", p.Mode)
	}
	if err != nil {
		return m, err
	}
	m.Seconds, m.CPU, err = timeRepeats(o.warmup, o.repeats, step)
	return m, err
}

// trainStep returns a function running one training step of model on (x, y).
func trainStep(backend backends.Backend, p params, model train.Model, x,
	y *tensors.Tensor) (func() error, error) {
	modelFn := func(ctx *context.Context, _ any, inputs []*graph.Node) []*graph.Node {
		return []*graph.Node{model(ctx, inputs[0])}
	}
	lossFn := func(labels, predictions []*graph.Node) *graph.Node {
		if p.Model == "unet" {
			return metrics.MSE(labels[0], predictions[0])
		}
		return metrics.SoftmaxCrossEntropy(labels[0], predictions[0])
	}
	ctx := context.New()
	if err := ctx.SetRNGStateFromSeed(1); err != nil {
		return nil, err
	}
	trainer := gomlxtrain.NewTrainer(backend, ctx, modelFn, lossFn, optimizers.Adam().Done(),
		nil, nil)
	return func() (err error) {
		defer catch(&err)
		ms, err := trainer.TrainStep(nil, []*tensors.Tensor{x}, []*tensors.Tensor{y})
		if err != nil {
			return err
		}
		for _, t := range ms {
			t.MustFinalizeAll()
		}
		return nil
	}, nil
}

// forwardPass returns a function running model on x in inference mode.
func forwardPass(backend backends.Backend, model train.Model,
	x *tensors.Tensor) (func() error, error) {
	ctx := context.New()
	if err := ctx.SetRNGStateFromSeed(1); err != nil {
		return nil, err
	}
	exec, err := context.NewExec(backend, ctx, func(ctx *context.Context,
		x *graph.Node) *graph.Node {
		return model(ctx, x)
	})
	if err != nil {
		return nil, err
	}
	return func() (err error) {
		defer catch(&err)
		outs, err := exec.Exec(x)
		if err != nil {
			return err
		}
		for _, t := range outs {
			t.MustFinalizeAll()
		}
		return nil
	}, nil
}

// catch turns a panic of GoMLX (graph building, execution) into an error.
func catch(err *error) {
	if r := recover(); r != nil {
		if e, ok := r.(error); ok {
			*err = e
			return
		}
		*err = fmt.Errorf("%v", r)
	}
}
