package train

import (
	"fmt"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// CountParameters builds model (without running it) on one float32 input of the given
// dimensions, a batch of one being prepended, and returns the number of elements of its
// trainable variables.
func CountParameters(backend backends.Backend, model Model, dims ...int) (count int, err error) {
	if len(dims) == 0 {
		return 0, fmt.Errorf("train: CountParameters: no input dimensions")
	}
	for _, d := range dims {
		if d <= 0 {
			return 0, fmt.Errorf("train: CountParameters: input dimensions %v", dims)
		}
	}
	ctx := context.New()
	if err := buildOnly(backend, ctx, model, dims); err != nil {
		return 0, fmt.Errorf("train: CountParameters: building the model: %w", err)
	}
	for v := range ctx.IterVariables() {
		if v.Trainable {
			count += v.Shape().Size()
		}
	}
	return count, nil
}

// buildOnly builds model's graph on a [1, dims...] input, turning a panic of graph building
// into an error.
func buildOnly(backend backends.Backend, ctx *context.Context, model Model, dims []int) error {
	return recoverError(func() {
		g := graph.NewGraph(backend, "count_parameters")
		defer g.Finalize()
		x := graph.Parameter(g, "x", shapes.Make(dtypes.Float32, append([]int{1}, dims...)...))
		model(ctx, x)
	})
}
