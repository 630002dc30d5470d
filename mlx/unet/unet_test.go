package unet

import (
	"testing"

	_ "github.com/dlexp/dlexp/mlx/cpubackend"
	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

func newBackend(t *testing.T) backends.Backend {
	t.Helper()
	b, err := backends.NewWithConfig("cpu")
	if err != nil {
		t.Fatalf("cpu backend: %v", err)
	}
	return b
}

// outputShape builds the model on an input of the given shape, runs it once in inference
// and returns the output's shape.
func outputShape(t *testing.T, b backends.Backend,
	model func(*context.Context, *graph.Node) *Config, dims ...int) shapes.Shape {
	t.Helper()
	ctx := context.New()
	exec, err := context.NewExec(b, ctx, func(ctx *context.Context, x *graph.Node) *graph.Node {
		return model(ctx, x).Done()
	})
	if err != nil {
		t.Fatalf("NewExec: %v", err)
	}
	x := tensors.FromShape(shapes.Make(dtypes.Float32, dims...))
	out, err := exec.Exec(x)
	if err != nil {
		t.Fatalf("Exec on %v: %v", dims, err)
	}
	return out[0].Shape()
}

func TestPresetsOutputShapes(t *testing.T) {
	b := newBackend(t)
	cases := []struct {
		name  string
		model func(*context.Context, *graph.Node) *Config
		in    []int
		want  []int
	}{
		{"identity mnist", Identity, []int{2, 28, 28, 1}, []int{2, 28, 28, 1}},
		{"denoiser mnist", Denoiser, []int{2, 28, 28, 1}, []int{2, 28, 28, 1}},
		{"denoiser cifar", Denoiser, []int{2, 32, 32, 3}, []int{2, 32, 32, 3}},
		{"superres mnist", SuperResolution, []int{2, 14, 14, 1}, []int{2, 28, 28, 1}},
		{"superres cifar", SuperResolution, []int{2, 16, 16, 3}, []int{2, 32, 32, 3}},
		{"denoiser odd sides padded and cropped", Denoiser, []int{1, 30, 17, 2}, []int{1, 30, 17, 2}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := outputShape(t, b, tc.model, tc.in...)
			want := shapes.Make(dtypes.Float32, tc.want...)
			if !got.Equal(want) {
				t.Errorf("output shape %s, want %s", got, want)
			}
		})
	}
}

func TestBuilderOverridesAndContextDefaults(t *testing.T) {
	b := newBackend(t)
	deep := func(ctx *context.Context, x *graph.Node) *Config {
		ctx.SetParam(ParamDepth, 3)
		ctx.SetParam(ParamBatchNorm, false)
		return New(ctx, x).BaseChannels(4).OutputChannels(5)
	}
	got := outputShape(t, b, deep, 1, 20, 12, 3)
	if want := shapes.Make(dtypes.Float32, 1, 20, 12, 5); !got.Equal(want) {
		t.Errorf("output shape %s, want %s", got, want)
	}
}

func TestChannelsDoublePerLevel(t *testing.T) {
	c := &Config{depth: 2, baseChannels: 16}
	got := c.Channels()
	want := []int{16, 32, 64}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("Channels() = %v, want %v", got, want)
		}
	}
}

func TestUpSampleIsDepthToSpace(t *testing.T) {
	// With the 1x1 kernel set to the identity on 4 channels and no bias, output pixel
	// (2i+a, 2j+b) must take input channel 2a+b of pixel (i, j).
	b := newBackend(t)
	ctx := context.New()
	eye := [][][][]float32{{{{1, 0, 0, 0}, {0, 1, 0, 0}, {0, 0, 1, 0}, {0, 0, 0, 1}}}}
	ctx.In("conv").VariableWithValue("weights", eye)
	ctx.In("conv").VariableWithValue("biases", []float32{0, 0, 0, 0})
	upsample := func(ctx *context.Context, x *graph.Node) *graph.Node {
		return UpSample(ctx, x, 1)
	}
	exec, err := context.NewExec(b, ctx.Reuse(), upsample)
	if err != nil {
		t.Fatal(err)
	}
	// One 1x1 pixel with channels 10, 20, 30, 40.
	out, err := exec.Exec([][][][]float32{{{{10, 20, 30, 40}}}})
	if err != nil {
		t.Fatal(err)
	}
	got := out[0].Value().([][][][]float32)
	want := [][]float32{{10, 20}, {30, 40}}
	for i := range 2 {
		for j := range 2 {
			if got[0][i][j][0] != want[i][j] {
				t.Fatalf("UpSample output %v, want %v", got, want)
			}
		}
	}
}

func TestGradientsReachEveryVariable(t *testing.T) {
	b := newBackend(t)
	ctx := context.New()
	var names []string
	exec, err := context.NewExec(b, ctx, func(ctx *context.Context, x *graph.Node) []*graph.Node {
		ctx.SetTraining(x.Graph(), true)
		y := SuperResolution(ctx, x).Done()
		target := graph.Ones(x.Graph(), y.Shape())
		loss := graph.ReduceAllMean(graph.Square(graph.Sub(y, target)))
		grads := ctx.BuildTrainableVariablesGradientsGraph(loss)
		for v := range ctx.IterVariables() {
			if v.Trainable {
				names = append(names, v.ScopeAndName())
			}
		}
		norms := make([]*graph.Node, len(grads))
		for i, g := range grads {
			norms[i] = graph.ReduceAllSum(graph.Abs(g))
		}
		return norms
	})
	if err != nil {
		t.Fatal(err)
	}
	x := tensors.FromShape(shapes.Make(dtypes.Float32, 2, 6, 6, 1))
	tensors.MutableFlatData(x, func(flat []float32) {
		for i := range flat {
			flat[i] = float32(i%7) / 7
		}
	})
	out, err := exec.Exec(x)
	if err != nil {
		t.Fatal(err)
	}
	for i, norm := range out {
		v := norm.Value().(float32)
		if !(v > 0) || v != v {
			t.Errorf("gradient of %s has norm %v, want finite and > 0", names[i], v)
		}
	}
}
