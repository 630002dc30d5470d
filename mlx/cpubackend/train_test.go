package cpubackend

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/gomlx/gomlx/backends"
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

// convBlock is a 3x3 same convolution, batch normalisation (defaults) and ReLU.
func convBlock(ctx *context.Context, x *Node, channels int) *Node {
	x = layers.Convolution(ctx, x).Channels(channels).KernelSize(3).PadSame().Done()
	x = batchnorm.New(ctx, x, -1).Done()
	return activations.Relu(x)
}

// tinyUNet maps [b, 8, 8, 1] to [b, 8, 8, 1] through every operation the backend adds:
// convolutions (strided, dilated), batch normalisation, max pooling, Concatenate, and both
// up-sampling compositions.
func tinyUNet(ctx *context.Context, _ any, inputs []*Node) []*Node {
	x := inputs[0]
	e1 := convBlock(ctx.In("e1"), x, 4)      // [b, 8, 8, 4]
	pooled := MaxPool(e1).Window(2).Done()   // [b, 4, 4, 4]
	e2 := convBlock(ctx.In("e2"), pooled, 8) // [b, 4, 4, 8]
	strided := layers.Convolution(ctx.In("strided"), e1).Channels(4).KernelSize(3).
		PadSame().Strides(2).Done() // [b, 4, 4, 4]
	dilated := layers.Convolution(ctx.In("dilated"), strided).Channels(4).KernelSize(3).
		PadSame().Dilations(2).Done() // [b, 4, 4, 4]
	bottom := Concatenate([]*Node{e2, dilated}, -1)                // [b, 4, 4, 12]
	up1 := convBlock(ctx.In("up1"), zeroInsertUpsample(bottom), 4) // [b, 8, 8, 4]
	up2 := depthToSpace(layers.Convolution(ctx.In("up2"), bottom).Channels(16).KernelSize(3).
		PadSame().Done()) // [b, 8, 8, 4]
	merged := Concatenate([]*Node{up1, up2, e1}, -1) // [b, 8, 8, 12]
	out := layers.Convolution(ctx.In("out"), merged).Channels(1).KernelSize(1).Done()
	out.AssertDims(x.Shape().Dimensions...)
	return []*Node{out}
}

// denoiseBatch returns noisy inputs and clean targets: smooth random blobs on size x size
// images, shaped [batch, size, size, 1].
func denoiseBatch(seed uint64, batch, size int) (noisy, clean *tensors.Tensor) {
	rng := rand.New(rand.NewPCG(seed, 3))
	pixels := size * size
	in, target := make([]float32, batch*pixels), make([]float32, batch*pixels)
	radius2 := float64(pixels) / 16
	for b := range batch {
		cy, cx := rng.Float64()*float64(size), rng.Float64()*float64(size)
		for y := range size {
			for x := range size {
				d := (float64(y)-cy)*(float64(y)-cy) + (float64(x)-cx)*(float64(x)-cx)
				v := float32(1 / (1 + d/radius2))
				i := b*pixels + y*size + x
				target[i] = v
				in[i] = v + float32(rng.NormFloat64()*0.2)
			}
		}
	}
	return tensors.FromFlatDataAndDimensions(in, batch, size, size, 1),
		tensors.FromFlatDataAndDimensions(target, batch, size, size, 1)
}

// trainTiny trains tinyUNet for steps steps of batch images on backend and returns the
// losses of each step and the evaluation loss at the end.
func trainTiny(backend backends.Backend, seed uint64, steps, batch int) (stepLosses []float64,
	evalLoss float64, err error) {
	ctx := context.New()
	if err := ctx.SetRNGStateFromSeed(int64(seed)); err != nil {
		return nil, 0, err
	}
	trainer := train.NewTrainer(backend, ctx, tinyUNet, losses.MeanSquaredError,
		optimizers.Adam().LearningRate(0.01).Done(), nil, nil)
	for step := range steps {
		noisy, clean := denoiseBatch(seed*100+uint64(step%4), batch, 8)
		metrics, err := trainer.TrainStep(nil, []*tensors.Tensor{noisy}, []*tensors.Tensor{clean})
		if err != nil {
			return nil, 0, fmt.Errorf("step %d: %w", step, err)
		}
		stepLosses = append(stepLosses, tensors.ToScalar[float64](
			tensorsAsFloat64(metrics[0])))
	}
	noisy, clean := denoiseBatch(seed*100, batch, 8)
	metrics, err := trainer.EvalStep(nil, []*tensors.Tensor{noisy}, []*tensors.Tensor{clean})
	if err != nil {
		return nil, 0, fmt.Errorf("eval: %w", err)
	}
	return stepLosses, tensors.ToScalar[float64](tensorsAsFloat64(metrics[0])), nil
}

// tensorsAsFloat64 converts a float32 scalar tensor to a float64 one.
func tensorsAsFloat64(t *tensors.Tensor) *tensors.Tensor {
	if v, ok := t.Value().(float32); ok {
		return tensors.FromValue(float64(v))
	}
	return t
}

func TestStockLayersTrainWithFallingLoss(t *testing.T) {
	const steps = 24
	stepLosses, evalLoss, err := trainTiny(cpuBackend(), 1, steps, 16)
	if err != nil {
		t.Fatal(err)
	}
	first := (stepLosses[0] + stepLosses[1] + stepLosses[2] + stepLosses[3]) / 4
	last := (stepLosses[steps-1] + stepLosses[steps-2] + stepLosses[steps-3] +
		stepLosses[steps-4]) / 4
	t.Logf("loss: first 4 steps %.4f, last 4 steps %.4f, eval %.4f", first, last, evalLoss)
	if !(last < 0.7*first) {
		t.Errorf("loss did not fall: first steps %.4f, last steps %.4f (all: %.4f)", first, last,
			stepLosses)
	}
	if !(evalLoss < first) {
		t.Errorf("eval loss %.4f (batch norm in inference mode) not below the first steps' %.4f",
			evalLoss, first)
	}
}

// TestTwoGoroutinesTrainWithoutDeadlock trains two models on the same backend at once, with
// batches large enough for SimpleGo's blocked (parallel) matrix product.
func TestTwoGoroutinesTrainWithoutDeadlock(t *testing.T) {
	backend := cpuBackend()
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, errs[i] = trainTiny(backend, uint64(10+i), 4, 48)
		}()
	}
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		t.Fatal("two concurrent trainings did not finish within 60s: deadlock?")
	}
	for i, err := range errs {
		if err != nil {
			t.Errorf("goroutine %d: %v", i, err)
		}
	}
}
