package unet

import (
	"testing"

	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// runOn runs model once in inference on a [2, 8, 8, 1] input holding data and returns the
// output's values.
func runOn(t *testing.T, model func(*context.Context, *graph.Node) *Config,
	data []float32) []float32 {
	t.Helper()
	x := tensors.FromFlatDataAndDimensions(data, 2, 8, 8, 1)
	exec, err := context.NewExec(newBackend(t), context.New(),
		func(ctx *context.Context, x *graph.Node) *graph.Node { return model(ctx, x).Done() })
	if err != nil {
		t.Fatalf("NewExec: %v", err)
	}
	out, err := exec.Exec(x)
	if err != nil {
		t.Fatalf("Exec: %v", err)
	}
	return tensors.MustCopyFlatData[float32](out[0])
}

func TestImagePresetsOutputPixelRangeAndNewIsLinear(t *testing.T) {
	x := make([]float32, 2*8*8*1)
	for i := range x {
		x[i] = float32(i%7) * 3 // far outside [0, 1]
	}
	for name, preset := range map[string]func(*context.Context, *graph.Node) *Config{
		"Identity": Identity, "Denoiser": Denoiser,
	} {
		for i, v := range runOn(t, preset, x) {
			if !(v >= 0 && v <= 1) {
				t.Fatalf("%s: output %d = %g, want in [0, 1]", name, i, v)
			}
		}
	}
	linear := func(ctx *context.Context, x *graph.Node) *Config { return New(ctx, x).Depth(1) }
	outside := 0
	for _, v := range runOn(t, linear, x) {
		if v < 0 || v > 1 {
			outside++
		}
	}
	if outside == 0 {
		t.Error("New without UnitOutput: every output in [0, 1], want a linear output")
	}
}
