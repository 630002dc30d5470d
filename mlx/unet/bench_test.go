package unet

import (
	"math/rand/v2"
	"syscall"
	"testing"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/gomlx/gomlx/pkg/ml/train"
	"github.com/gomlx/gomlx/pkg/ml/train/losses"
	"github.com/gomlx/gomlx/pkg/ml/train/optimizers"
)

// randomImages returns a float32 tensor of the given shape with values in [0, 1).
func randomImages(seed uint64, dims ...int) *tensors.Tensor {
	rng := rand.New(rand.NewPCG(seed, 0))
	t := tensors.FromShape(shapes.Make(dtypes.Float32, dims...))
	tensors.MutableFlatData(t, func(flat []float32) {
		for i := range flat {
			flat[i] = rng.Float32()
		}
	})
	return t
}

// benchmarkTrainStep measures one Adam training step of a preset with MSE loss on random
// images; it reports images/s and the process's peak resident memory.
func benchmarkTrainStep(b *testing.B, preset func(*context.Context, *graph.Node) *Config,
	in, out []int) {
	backend, err := backends.NewWithConfig("cpu")
	if err != nil {
		b.Fatal(err)
	}
	model := func(ctx *context.Context, _ any, inputs []*graph.Node) []*graph.Node {
		return []*graph.Node{preset(ctx, inputs[0]).Done()}
	}
	trainer := train.NewTrainer(backend, context.New(), model, losses.MeanSquaredError,
		optimizers.Adam().Done(), nil, nil)
	x, y := randomImages(1, in...), randomImages(2, out...)
	step := func() {
		ms, err := trainer.TrainStep(nil, []*tensors.Tensor{x}, []*tensors.Tensor{y})
		if err != nil {
			b.Fatal(err)
		}
		for _, m := range ms {
			m.MustFinalizeAll()
		}
	}
	step() // compiles
	cpuBefore := cpuSeconds()
	b.ResetTimer()
	for b.Loop() {
		step()
	}
	// CPU time per step reads the cost on a shared machine, where wall time depends on load.
	b.ReportMetric((cpuSeconds()-cpuBefore)/float64(b.N), "cpu-s/op")
	b.ReportMetric(float64(in[0]*b.N)/b.Elapsed().Seconds(), "images/s")
	var usage syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &usage) == nil {
		b.ReportMetric(float64(usage.Maxrss)/1024, "peak-MiB")
	}
}

func BenchmarkTrainStep(b *testing.B) {
	b.Run("Identity/b4/32x32x3", func(b *testing.B) {
		benchmarkTrainStep(b, Identity, []int{4, 32, 32, 3}, []int{4, 32, 32, 3})
	})
	b.Run("Denoiser/b4/32x32x3", func(b *testing.B) {
		benchmarkTrainStep(b, Denoiser, []int{4, 32, 32, 3}, []int{4, 32, 32, 3})
	})
	b.Run("SuperResolution/b4/16x16x3-to-32x32", func(b *testing.B) {
		benchmarkTrainStep(b, SuperResolution, []int{4, 16, 16, 3}, []int{4, 32, 32, 3})
	})
	b.Run("Denoiser/b64/28x28x1", func(b *testing.B) {
		benchmarkTrainStep(b, Denoiser, []int{64, 28, 28, 1}, []int{64, 28, 28, 1})
	})
}

// cpuSeconds returns the user and system CPU time of the process so far.
func cpuSeconds() float64 {
	var usage syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &usage) != nil {
		return 0
	}
	return float64(usage.Utime.Nano()+usage.Stime.Nano()) / 1e9
}
