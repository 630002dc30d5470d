// Package sides fits the height and width of image batches to what a network needs.
package sides

import (
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
)

// PadToMultiple pads the bottom and right of x, shaped [batch, height, width, channels], with
// zeros so that height and width are multiples of m. It concatenates zeros rather than using
// Pad, which has no gradient rule in a forward pass.
func PadToMultiple(x *graph.Node, m int) *graph.Node {
	dims := x.Shape().Dimensions
	for _, axis := range []int{1, 2} {
		extra := (m - dims[axis]%m) % m
		if extra == 0 {
			continue
		}
		zerosDims := append([]int(nil), dims...)
		zerosDims[axis] = extra
		zeros := graph.Zeros(x.Graph(), shapes.Make(x.DType(), zerosDims...))
		x = graph.Concatenate([]*graph.Node{x, zeros}, axis)
		dims = x.Shape().Dimensions
	}
	return x
}
