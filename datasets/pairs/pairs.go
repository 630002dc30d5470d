// Package pairs makes the (input, target) image pairs of the image-to-image experiments
// from a labelled image set: the identity autoencoder (input = target), the denoiser
// (input = target plus strong Gaussian noise, made once from a fixed seed and clipped to
// [0, 1]) and 2x super-resolution (input = target downscaled by area averaging).
//
// Pixels are float32 in [0, 1], row-major, channels last, as package transform lays them.
package pairs

import (
	"fmt"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/datasets"

	"github.com/dlexp/dlexp/datasets/imageset"
	"github.com/dlexp/dlexp/datasets/transform"
)

// Task names an image-to-image experiment.
type Task string

// The tasks of the experiments.
const (
	Identity        Task = "identity"
	Denoise         Task = "denoise"
	SuperResolution Task = "superresolution"
)

// Pairs holds N inputs and N targets; inputs are smaller than targets for super-resolution.
type Pairs struct {
	// Name says what the pairs were made from, such as "mnist/train denoise sigma=0.5".
	Name string

	// Inputs and their shape.
	Inputs  []float32
	InShape transform.Shape

	// Targets and their shape.
	Targets  []float32
	OutShape transform.Shape
}

// Options tune how pairs are made; the zero value takes the documented defaults.
type Options struct {
	// Sigma is the noise's standard deviation on [0, 1] pixels for Denoise
	// (default transform.DefaultNoiseSigma).
	Sigma float64
	// Seed fixes the noise (default transform.DefaultNoiseSeed).
	Seed uint64
}

// Make builds the pairs of task from set.
func Make(task Task, set *imageset.Set, o Options) (*Pairs, error) {
	if set == nil || set.N == 0 {
		return nil, fmt.Errorf("pairs: %s: empty image set", task)
	}
	if err := set.Validate(); err != nil {
		return nil, fmt.Errorf("pairs: %w", err)
	}
	clean := set.Float32()
	shape := transform.Shape{N: set.N, H: set.H, W: set.W, C: set.C}
	p := &Pairs{Targets: clean, OutShape: shape}
	switch task {
	case Identity:
		p.Inputs, p.InShape = clean, shape
		p.Name = fmt.Sprintf("%s identity", set.Name)
	case Denoise:
		sigma, seed := o.Sigma, o.Seed
		if sigma == 0 {
			sigma = transform.DefaultNoiseSigma
		}
		if sigma < 0 {
			return nil, fmt.Errorf("pairs: noise sigma %g is negative", sigma)
		}
		if seed == 0 {
			seed = transform.DefaultNoiseSeed
		}
		p.Inputs, p.InShape = transform.AddNoise(clean, sigma, seed), shape
		p.Name = fmt.Sprintf("%s denoise sigma=%g", set.Name, sigma)
	case SuperResolution:
		small, s, err := transform.Downscale2(clean, shape)
		if err != nil {
			return nil, fmt.Errorf("pairs: %s: %w", set.Name, err)
		}
		p.Inputs, p.InShape = small, s
		p.Name = fmt.Sprintf("%s 2x super-resolution", set.Name)
	default:
		return nil, fmt.Errorf("pairs: unknown task %q (want %q, %q or %q)",
			task, Identity, Denoise, SuperResolution)
	}
	return p, nil
}

// N returns the number of pairs.
func (p *Pairs) N() int { return p.InShape.N }

// Take returns the first n pairs (all of them when n <= 0 or n >= N), sharing memory with p.
func (p *Pairs) Take(n int) *Pairs {
	if n <= 0 || n >= p.N() {
		return p
	}
	q := *p
	q.InShape.N, q.OutShape.N = n, n
	q.Inputs = p.Inputs[:n*p.inSize()]
	q.Targets = p.Targets[:n*p.outSize()]
	return &q
}

// Input returns the pixels of input i, sharing memory with p.
func (p *Pairs) Input(i int) []float32 {
	return p.Inputs[i*p.inSize() : (i+1)*p.inSize()]
}

// Target returns the pixels of target i, sharing memory with p.
func (p *Pairs) Target(i int) []float32 {
	return p.Targets[i*p.outSize() : (i+1)*p.outSize()]
}

// InputsTensor returns the first n inputs as a float32 tensor [n, H, W, C], for instance the
// fixed samples a GIF shows after each epoch.
func (p *Pairs) InputsTensor(n int) *tensors.Tensor {
	n = min(max(n, 0), p.N())
	s := p.InShape
	return tensors.FromFlatDataAndDimensions(p.Inputs[:n*p.inSize()], n, s.H, s.W, s.C)
}

// TargetsTensor returns the first n targets as a float32 tensor [n, H, W, C].
func (p *Pairs) TargetsTensor(n int) *tensors.Tensor {
	n = min(max(n, 0), p.N())
	s := p.OutShape
	return tensors.FromFlatDataAndDimensions(p.Targets[:n*p.outSize()], n, s.H, s.W, s.C)
}

// Dataset returns a GoMLX in-memory dataset yielding the inputs as input and the targets as
// label, ready for the training package.
func (p *Pairs) Dataset(backend backends.Backend) (*datasets.InMemoryDataset, error) {
	if p.N() == 0 {
		return nil, fmt.Errorf("pairs: %s: no pairs", p.Name)
	}
	ds, err := datasets.InMemoryFromData(backend, p.Name,
		[]any{p.InputsTensor(p.N())}, []any{p.TargetsTensor(p.N())})
	if err != nil {
		return nil, fmt.Errorf("pairs: %s: %w", p.Name, err)
	}
	return ds, nil
}

func (p *Pairs) inSize() int  { return p.InShape.H * p.InShape.W * p.InShape.C }
func (p *Pairs) outSize() int { return p.OutShape.H * p.OutShape.W * p.OutShape.C }
