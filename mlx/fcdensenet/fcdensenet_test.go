package fcdensenet

import (
	"math"
	"math/rand/v2"
	"testing"

	_ "github.com/dlexp/dlexp/mlx/cpubackend"
	"github.com/dlexp/dlexp/mlx/metrics"
	"github.com/dlexp/dlexp/mlx/train"
	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/gomlx/gomlx/pkg/ml/datasets"
)

type preset func(*context.Context, *graph.Node, int) *Config

func newBackend(t *testing.T) backends.Backend {
	t.Helper()
	b, err := backends.NewWithConfig("cpu")
	if err != nil {
		t.Fatalf("cpu backend: %v", err)
	}
	return b
}

// trainableParameters builds (without running) the model on a [1, size, size, channels]
// input and counts the elements of its trainable variables.
func trainableParameters(t *testing.T, b backends.Backend, model preset, size, channels,
	classes int) int {
	t.Helper()
	ctx := context.New()
	g := graph.NewGraph(b, "count")
	defer g.Finalize()
	x := graph.Parameter(g, "x", shapes.Make(dtypes.Float32, 1, size, size, channels))
	y := model(ctx, x, classes).Done()
	y.AssertDims(1, size, size, classes)
	count := 0
	for v := range ctx.IterVariables() {
		if v.Trainable {
			count += v.Shape().Size()
		}
	}
	return count
}

func TestPresetParameterCounts(t *testing.T) {
	b := newBackend(t)
	cases := []struct {
		name  string
		model preset
		want  float64 // millions, as in the paper, which rounds loosely: FC-DenseNet56 counts
		// 1.38M here, as in other reimplementations, against "1.5M" in the paper.
	}{
		{"FC-DenseNet56", FCDenseNet56, 1.5},
		{"FC-DenseNet67", FCDenseNet67, 3.5},
		{"FC-DenseNet103", FCDenseNet103, 9.4},
	}
	for _, tc := range cases {
		got := trainableParameters(t, b, tc.model, 32, 3, 11)
		t.Logf("%s: %d trainable parameters", tc.name, got)
		if math.Abs(float64(got)/1e6-tc.want) > 0.1*tc.want {
			t.Errorf("%s has %.3fM parameters, want about %.1fM", tc.name, float64(got)/1e6,
				tc.want)
		}
	}
}

func TestOutputShapes(t *testing.T) {
	b := newBackend(t)
	cases := []struct {
		name    string
		in      []int
		classes int
	}{
		{"rgb 16x16", []int{2, 16, 16, 3}, 5},
		{"rgb+disparity, sides not multiples of 4", []int{1, 10, 13, 4}, 2},
		{"grey", []int{1, 8, 8, 1}, 20},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.New()
			model := func(ctx *context.Context, x *graph.Node) *graph.Node {
				return Tiny(ctx, x, tc.classes).Softmax(true).Done()
			}
			exec, err := context.NewExec(b, ctx, model)
			if err != nil {
				t.Fatal(err)
			}
			out, err := exec.Exec(tensors.FromShape(shapes.Make(dtypes.Float32, tc.in...)))
			if err != nil {
				t.Fatal(err)
			}
			want := shapes.Make(dtypes.Float32, tc.in[0], tc.in[1], tc.in[2], tc.classes)
			if !out[0].Shape().Equal(want) {
				t.Fatalf("output shape %s, want %s", out[0].Shape(), want)
			}
			// Softmax: probabilities over the classes sum to 1.
			flat := tensors.MustCopyFlatData[float32](out[0])
			var sum float64
			for _, p := range flat[:tc.classes] {
				sum += float64(p)
			}
			if math.Abs(sum-1) > 1e-4 {
				t.Errorf("class probabilities of a pixel sum to %v", sum)
			}
		})
	}
}

func TestInsertZerosPlacesPixelsOnEvenPositions(t *testing.T) {
	b := newBackend(t)
	exec, err := graph.NewExec(b, insertZeros)
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Exec([][][][]float32{{{{1}, {2}}, {{3}, {4}}}})
	if err != nil {
		t.Fatal(err)
	}
	got := tensors.MustCopyFlatData[float32](out[0])
	want := []float32{1, 0, 2, 0, 0, 0, 0, 0, 3, 0, 4, 0, 0, 0, 0, 0}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("insertZeros = %v, want %v", got, want)
		}
	}
}

func TestGradientsReachEveryVariable(t *testing.T) {
	b := newBackend(t)
	ctx := context.New()
	exec, err := context.NewExec(b, ctx, func(ctx *context.Context, x *graph.Node) []*graph.Node {
		ctx.SetTraining(x.Graph(), true)
		logits := Tiny(ctx, x, 3).Dropout(0).Done()
		loss := graph.ReduceAllMean(graph.Square(logits))
		grads := ctx.BuildTrainableVariablesGradientsGraph(loss)
		norms := make([]*graph.Node, len(grads))
		for i, g := range grads {
			norms[i] = graph.ReduceAllSum(graph.Abs(g))
		}
		return norms
	})
	if err != nil {
		t.Fatal(err)
	}
	x := tensors.FromShape(shapes.Make(dtypes.Float32, 2, 8, 8, 2))
	tensors.MutableFlatData(x, func(flat []float32) {
		for i := range flat {
			flat[i] = float32(i%5) / 5
		}
	})
	out, err := exec.Exec(x)
	if err != nil {
		t.Fatal(err)
	}
	for i, norm := range out {
		if v := norm.Value().(float32); !(v > 0) {
			t.Errorf("gradient %d has norm %v, want > 0", i, v)
		}
	}
}

// segmentationData returns n [size, size, 1] images of noise with labels "bright" (1) or
// "dark" (0) per pixel, and the border marked void (255).
func segmentationData(t *testing.T, b backends.Backend, seed uint64,
	n, size int) *datasets.InMemoryDataset {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 3))
	imgs := make([][][][]float32, n)
	labels := make([][][]int32, n)
	for i := range n {
		imgs[i] = make([][][]float32, size)
		labels[i] = make([][]int32, size)
		for y := range size {
			imgs[i][y] = make([][]float32, size)
			labels[i][y] = make([]int32, size)
			for x := range size {
				v := rng.Float32()
				imgs[i][y][x] = []float32{v}
				switch {
				case y == 0 || x == 0:
					labels[i][y][x] = 255
				case v > 0.5:
					labels[i][y][x] = 1
				}
			}
		}
	}
	ds, err := datasets.InMemoryFromData(b, "segment", []any{imgs}, []any{labels})
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

func TestTinyTrainsOnSegmentation(t *testing.T) {
	b := newBackend(t)
	seg := metrics.Segmentation(2, "dark", "bright")
	model := func(ctx *context.Context, x *graph.Node) *graph.Node {
		return Tiny(ctx, x, 2).Done()
	}
	result, err := train.New(b, context.New(), model).Loss(metrics.SoftmaxCrossEntropy).
		Data(segmentationData(t, b, 1, 16, 8), segmentationData(t, b, 2, 8, 8)).
		Metrics(seg).Track("mean_iou", true).
		BatchSize(4).Epochs(4).Seed(5).LearningRate(1e-2).Progress(false).Run()
	if err != nil {
		t.Fatal(err)
	}
	first, last := result.History[0], result.History[len(result.History)-1]
	t.Logf("train loss %.4g -> %.4g; eval %s", first.TrainLoss, last.TrainLoss, last.Eval)
	if !(last.TrainLoss < first.TrainLoss) {
		t.Errorf("train loss went from %.4g to %.4g, want it lower", first.TrainLoss,
			last.TrainLoss)
	}
	// 8 images of 7x7 non-void pixels.
	if total := seg.Confusion.Total(); total != 8*7*7 {
		t.Errorf("confusion matrix counted %d pixels, want %d (void excluded)", total, 8*7*7)
	}
}
