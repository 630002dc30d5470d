package train

import (
	"strings"
	"testing"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/gomlx/gomlx/pkg/ml/layers"

	_ "github.com/dlexp/dlexp/mlx/cpubackend"
)

func TestCountParametersOfADenseLayer(t *testing.T) {
	b, err := backends.NewWithConfig("cpu")
	if err != nil {
		t.Fatal(err)
	}
	dense := func(ctx *context.Context, x *graph.Node) *graph.Node {
		return layers.Dense(ctx.In("dense"), x, true, 3)
	}
	n, err := CountParameters(b, dense, 5)
	if err != nil {
		t.Fatal(err)
	}
	if n != 5*3+3 {
		t.Errorf("got %d parameters, want 18 (5x3 weights + 3 biases)", n)
	}
	if _, err := CountParameters(b, dense); err == nil {
		t.Error("no dimensions: got no error")
	}
	broken := func(ctx *context.Context, x *graph.Node) *graph.Node {
		panic("shape mismatch")
	}
	if _, err := CountParameters(b, broken, 2); err == nil ||
		!strings.Contains(err.Error(), "shape mismatch") {
		t.Errorf("panicking model: got %v", err)
	}
}
