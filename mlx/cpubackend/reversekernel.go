package cpubackend

import (
	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/shapes"
)

// reverseOp reverses a tensor along some axes natively. A convolution whose kernel is the
// output of a reverseOp reads the reverseOp's input backwards instead (see convKernel).
type reverseOp struct {
	shape shapes.Shape
	axes  []int       // normalised, each once
	input backends.Op // the reversed node, for fusion into a convolution
}

// reverseOf returns the reverseOp that computes op, if op is such a node.
func reverseOf(op backends.Op) (*reverseOp, bool) {
	node, ok := op.(*simplego.Node)
	if !ok || node == nil || !kernelsOK {
		return nil, false
	}
	r, ok := (*nodeData(node)).(*reverseOp)
	return r, ok
}

// reversedAxes returns a flag per axis of the shape, true where the axis is reversed.
func (o *reverseOp) reversedAxes() []bool {
	flags := make([]bool, o.shape.Rank())
	for _, a := range o.axes {
		flags[a] = true
	}
	return flags
}

func (o *reverseOp) name() string              { return "Reverse" }
func (o *reverseOp) outputShape() shapes.Shape { return o.shape }

func (o *reverseOp) execute(backend *simplego.Backend, inputs []*simplego.Buffer,
	_ []bool) (*simplego.Buffer, error) {
	out := backend.NewBuffer(o.shape)
	switch o.shape.DType {
	case dtypes.Float32:
		reverseInto(flatOf[float32](backend, out), flatOf[float32](backend, inputs[0]),
			o.shape.Dimensions, o.reversedAxes())
	case dtypes.Float64:
		reverseInto(flatOf[float64](backend, out), flatOf[float64](backend, inputs[0]),
			o.shape.Dimensions, o.reversedAxes())
	}
	return out, nil
}

// reverseInto writes src (row-major, shaped dims) to dst reversed along the flagged axes.
func reverseInto[T any](dst, src []T, dims []int, reversed []bool) {
	if len(dims) == 0 || len(src) == 0 {
		copy(dst, src)
		return
	}
	strides := rowMajorStrides(dims)
	base := 0
	for a, r := range reversed {
		if r {
			base += (dims[a] - 1) * strides[a]
			strides[a] = -strides[a]
		}
	}
	inner := dims[len(dims)-1]
	rows := len(src) / inner
	parallelRanges(rows, max(1, (1<<15)/inner), func(from, to int) {
		stridedRows(dst, src, dims, strides, base, from, to)
	})
}
