package cpubackend

import (
	"fmt"
	"os"
	"runtime"
	"syscall"
	"testing"
	"time"

	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/gomlx/gomlx/pkg/ml/layers"
	"github.com/gomlx/gomlx/pkg/ml/layers/activations"
	"github.com/gomlx/gomlx/pkg/ml/layers/batchnorm"
	"github.com/gomlx/gomlx/pkg/ml/train"
	"github.com/gomlx/gomlx/pkg/ml/train/losses"
	"github.com/gomlx/gomlx/pkg/ml/train/optimizers"
)

// Benchmark UNet: 32x32x1 images, batch 64, channels 16/32/64, depth 2.
const (
	benchBatch = 64
	benchSize  = 32
)

// doubleConv is two 3x3 convolutions, each with batch normalisation and ReLU.
func doubleConv(ctx *context.Context, x *Node, channels int) *Node {
	for i := range 2 {
		c := ctx.In(fmt.Sprintf("conv%d", i))
		x = layers.Convolution(c, x).Channels(channels).KernelSize(3).PadSame().Done()
		x = activations.Relu(batchnorm.New(c, x, -1).Done())
	}
	return x
}

// upSample doubles the spatial size: a 1x1 convolution to 4*channels, then depth-to-space.
func upSample(ctx *context.Context, x *Node, channels int) *Node {
	x = layers.Convolution(ctx, x).Channels(4 * channels).KernelSize(1).Done()
	return depthToSpace(x)
}

// benchUNet is a depth-2 UNet with 16/32/64 channels for [b, 32, 32, 1] images.
func benchUNet(ctx *context.Context, _ any, inputs []*Node) []*Node {
	x := inputs[0]
	e1 := doubleConv(ctx.In("enc1"), x, 16)                                  // [b, 32, 32, 16]
	e2 := doubleConv(ctx.In("enc2"), MaxPool(e1).Window(2).Done(), 32)       // [b, 16, 16, 32]
	bottom := doubleConv(ctx.In("bottom"), MaxPool(e2).Window(2).Done(), 64) // [b, 8, 8, 64]
	u2 := upSample(ctx.In("up2"), bottom, 32)                                // [b, 16, 16, 32]
	d2 := doubleConv(ctx.In("dec2"), Concatenate([]*Node{e2, u2}, -1), 32)   // [b, 16, 16, 32]
	u1 := upSample(ctx.In("up1"), d2, 16)                                    // [b, 32, 32, 16]
	d1 := doubleConv(ctx.In("dec1"), Concatenate([]*Node{e1, u1}, -1), 16)   // [b, 32, 32, 16]
	out := layers.Convolution(ctx.In("out"), d1).Channels(1).KernelSize(1).Done()
	out.AssertDims(x.Shape().Dimensions...)
	return []*Node{out}
}

// stepTimes holds seconds per training step measured by the sub-benchmarks, for the ratio.
var stepTimes = map[string]float64{}

// BenchmarkUNetTrainStep times one Adam training step (MSE loss) of benchUNet with the
// im2col convolution and with SimpleGo's own convolution loop, and prints their ratio.
//
// Run it with e.g.: go test -run '^$' -bench UNetTrainStep -benchtime 3x ./mlx/cpubackend
// (the ratio is printed when both sub-benchmarks run). DLEXP_BENCH_CONFIG adds a run with
// that backend configuration, e.g. DLEXP_BENCH_CONFIG=ops_sequential.
func BenchmarkUNetTrainStep(b *testing.B) {
	for _, conv := range []string{"im2col", "native"} {
		b.Run(conv, func(b *testing.B) { benchTrainStep(b, "conv="+conv) })
	}
	if extra := os.Getenv("DLEXP_BENCH_CONFIG"); extra != "" {
		b.Run(extra, func(b *testing.B) { benchTrainStep(b, extra) })
	}
	if im2col, native := stepTimes["conv=im2col"], stepTimes["conv=native"]; im2col > 0 &&
		native > 0 {
		fmt.Printf("UNet training step: im2col %.3fs, native %.3fs, native/im2col = %.2fx\n",
			im2col, native, native/im2col)
	}
}

func benchTrainStep(b *testing.B, config string) {
	backend, err := NewBackend(config)
	if err != nil {
		b.Fatal(err)
	}
	defer backend.Finalize()
	ctx := context.New()
	trainer := train.NewTrainer(backend, ctx, benchUNet, losses.MeanSquaredError,
		optimizers.Adam().Done(), nil, nil)
	noisy, clean := denoiseBatch(1, benchBatch, benchSize)
	step := func() {
		_, err := trainer.TrainStep(nil, []*tensors.Tensor{noisy}, []*tensors.Tensor{clean})
		if err != nil {
			b.Fatal(err)
		}
	}

	// The first step compiles the graph.
	start := time.Now()
	step()
	b.Logf("%s: first step (with compilation) %.2fs", config, time.Since(start).Seconds())

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	cpuBefore := cpuSeconds()
	b.ResetTimer()
	start = time.Now()
	for range b.N {
		step()
	}
	elapsed := time.Since(start).Seconds() / float64(b.N)
	b.StopTimer()
	cpuPerStep := (cpuSeconds() - cpuBefore) / float64(b.N)
	runtime.ReadMemStats(&after)

	stepTimes[config] = elapsed
	b.ReportMetric(elapsed, "s/step")
	b.ReportMetric(float64(benchBatch)/elapsed, "images/s")
	// CPU time is steadier than wall time on a shared machine.
	b.ReportMetric(cpuPerStep, "cpu-s/step")
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/float64(b.N)/(1<<20),
		"MiB-alloc/step")
	var usage syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &usage); err == nil {
		// Linux reports kilobytes; the peak covers the whole process so far.
		b.ReportMetric(float64(usage.Maxrss)/(1<<10), "MiB-peak-rss")
	}
}

// cpuSeconds returns the user plus system CPU time of the process so far.
func cpuSeconds() float64 {
	var usage syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &usage); err != nil {
		return 0
	}
	return time.Duration(usage.Utime.Nano() + usage.Stime.Nano()).Seconds()
}
