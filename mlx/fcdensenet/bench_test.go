package fcdensenet

import (
	"math/rand/v2"
	"syscall"
	"testing"

	"github.com/dlexp/dlexp/mlx/metrics"
	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/gomlx/gomlx/pkg/ml/train"
	"github.com/gomlx/gomlx/pkg/ml/train/optimizers"
)

// benchClasses is the number of classes of the benchmarks (Cityscapes' reduced set).
const benchClasses = 11

// benchmarkTrainStep measures one Adam training step of a preset with void-aware softmax
// cross-entropy on random [batch, size, size, 3] images and labels; it reports images/s and
// the process's peak resident memory.
func benchmarkTrainStep(b *testing.B, model preset, batch, size int) {
	backend, err := backends.NewWithConfig("cpu")
	if err != nil {
		b.Fatal(err)
	}
	modelFn := func(ctx *context.Context, _ any, inputs []*graph.Node) []*graph.Node {
		return []*graph.Node{model(ctx, inputs[0], benchClasses).Done()}
	}
	lossFn := func(labels, predictions []*graph.Node) *graph.Node {
		return metrics.SoftmaxCrossEntropy(labels[0], predictions[0])
	}
	trainer := train.NewTrainer(backend, context.New(), modelFn, lossFn,
		optimizers.Adam().Done(), nil, nil)

	rng := rand.New(rand.NewPCG(1, 2))
	x := tensors.FromShape(shapes.Make(dtypes.Float32, batch, size, size, 3))
	tensors.MutableFlatData(x, func(flat []float32) {
		for i := range flat {
			flat[i] = rng.Float32()
		}
	})
	y := tensors.FromShape(shapes.Make(dtypes.Int32, batch, size, size))
	tensors.MutableFlatData(y, func(flat []int32) {
		for i := range flat {
			flat[i] = int32(rng.IntN(benchClasses + 1)) // the extra class is void
		}
	})
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
	b.ReportMetric(float64(batch*b.N)/b.Elapsed().Seconds(), "images/s")
	var usage syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &usage) == nil {
		b.ReportMetric(float64(usage.Maxrss)/1024, "peak-MiB")
	}
}

func BenchmarkTrainStep(b *testing.B) {
	presets := []struct {
		name  string
		model preset
	}{{"FCDenseNet56", FCDenseNet56}, {"FCDenseNet67", FCDenseNet67},
		{"FCDenseNet103", FCDenseNet103}, {"Tiny", Tiny}}
	for _, p := range presets {
		for _, size := range []int{32, 64} {
			b.Run(p.name+"/b4/"+map[int]string{32: "32x32", 64: "64x64"}[size],
				func(b *testing.B) { benchmarkTrainStep(b, p.model, 4, size) })
		}
	}
}

// cpuSeconds returns the user and system CPU time of the process so far.
func cpuSeconds() float64 {
	var usage syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &usage) != nil {
		return 0
	}
	return float64(usage.Utime.Nano()+usage.Stime.Nano()) / 1e9
}
