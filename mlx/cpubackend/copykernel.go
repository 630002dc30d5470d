package cpubackend

import (
	"fmt"
	"slices"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/shapeinference"
	"github.com/gomlx/gomlx/backends/simplego"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/shapes"
)

// Slice extracts x[starts:limits:strides]; nil or empty strides mean a stride of 1 on every
// axis (SimpleGo rejects them). Float dtypes are copied by a kernel, row by row.
func (b *Builder) Slice(x backends.Op, starts, limits, strides []int) (backends.Op, error) {
	shape, err := b.OpShape(x)
	if err != nil {
		return nil, fmt.Errorf("cpubackend: Slice: %w", err)
	}
	if len(strides) == 0 {
		strides = ones(shape.Rank())
	}
	if !b.backend.kernelsFor(shape.DType) || shape.Rank() == 0 {
		return b.Builder.Slice(x, starts, limits, strides)
	}
	out, err := shapeinference.SliceOp(shape, starts, limits, strides)
	if err != nil {
		return nil, fmt.Errorf("cpubackend: Slice: %w", err)
	}
	in := rowMajorStrides(shape.Dimensions)
	op := &sliceOp{shape: out, strides: make([]int, len(in))}
	for a := range in {
		op.base += starts[a] * in[a]
		op.strides[a] = strides[a] * in[a]
	}
	return addKernel(b.Builder, op, x)
}

// sliceOp copies a strided view of its input.
type sliceOp struct {
	shape   shapes.Shape
	base    int   // offset of the first value
	strides []int // input stride of each output axis
}

func (o *sliceOp) name() string              { return "Slice" }
func (o *sliceOp) outputShape() shapes.Shape { return o.shape }

func (o *sliceOp) execute(backend *simplego.Backend, inputs []*simplego.Buffer,
	_ []bool) (*simplego.Buffer, error) {
	out := backend.NewBuffer(o.shape)
	switch o.shape.DType {
	case dtypes.Float32:
		copyStrided(flatOf[float32](backend, out), flatOf[float32](backend, inputs[0]),
			o.shape.Dimensions, o.strides, o.base)
	case dtypes.Float64:
		copyStrided(flatOf[float64](backend, out), flatOf[float64](backend, inputs[0]),
			o.shape.Dimensions, o.strides, o.base)
	}
	return out, nil
}

// copyStrided fills dst (row-major, shaped dims) from the strided view of src, rows split
// over the cores.
func copyStrided[T any](dst, src []T, dims, strides []int, base int) {
	if len(dst) == 0 {
		return
	}
	inner := dims[len(dims)-1]
	parallelRanges(len(dst)/inner, max(1, (1<<15)/inner), func(from, to int) {
		stridedRows(dst, src, dims, strides, base, from, to)
	})
}

// Concatenate joins the operands along axis. Float dtypes are copied by a kernel, block by
// block.
func (b *Builder) Concatenate(axis int, operands ...backends.Op) (backends.Op, error) {
	if len(operands) == 0 {
		return b.Builder.Concatenate(axis, operands...)
	}
	shape, err := b.OpShape(operands[0])
	if err != nil || !b.backend.kernelsFor(shape.DType) || len(operands) == 1 {
		return b.Builder.Concatenate(axis, operands...)
	}
	inShapes := make([]shapes.Shape, len(operands))
	for i, op := range operands {
		if inShapes[i], err = b.OpShape(op); err != nil {
			return nil, fmt.Errorf("cpubackend: Concatenate: %w", err)
		}
	}
	out, err := shapeinference.ConcatenateOp(inShapes, axis)
	if err != nil {
		return nil, fmt.Errorf("cpubackend: Concatenate: %w", err)
	}
	op := &concatOp{shape: out, outer: product(out.Dimensions[:axis])}
	for _, s := range inShapes {
		op.blocks = append(op.blocks, product(s.Dimensions[axis:]))
	}
	return addKernel(b.Builder, op, operands...)
}

// concatOp interleaves its inputs: for each index of the axes before the joined one, a
// block of each input in turn.
type concatOp struct {
	shape  shapes.Shape
	outer  int   // product of the dims before the axis
	blocks []int // values per outer index of each input
}

func (o *concatOp) name() string              { return "Concatenate" }
func (o *concatOp) outputShape() shapes.Shape { return o.shape }

func (o *concatOp) execute(backend *simplego.Backend, inputs []*simplego.Buffer,
	_ []bool) (*simplego.Buffer, error) {
	out := backend.NewBuffer(o.shape)
	switch o.shape.DType {
	case dtypes.Float32:
		concatInto(backend, flatOf[float32](backend, out), inputs, o.outer, o.blocks)
	case dtypes.Float64:
		concatInto(backend, flatOf[float64](backend, out), inputs, o.outer, o.blocks)
	}
	return out, nil
}

// concatInto copies the inputs' blocks into dst, outer indices split over the cores.
func concatInto[T any](backend *simplego.Backend, dst []T, inputs []*simplego.Buffer, outer int,
	blocks []int) {
	srcs := make([][]T, len(inputs))
	row := 0
	for i, in := range inputs {
		srcs[i] = flatOf[T](backend, in)
		row += blocks[i]
	}
	parallelRanges(outer, max(1, (1<<15)/max(row, 1)), func(from, to int) {
		for o := from; o < to; o++ {
			off := o * row
			for i, src := range srcs {
				n := blocks[i]
				copy(dst[off:off+n], src[o*n:(o+1)*n])
				off += n
			}
		}
	})
}

// Transpose permutes the axes of x: axis i of the result is axis permutation[i] of x. Float
// dtypes are copied by a kernel (in tiles when the contiguous axis moves).
func (b *Builder) Transpose(x backends.Op, permutation ...int) (backends.Op, error) {
	shape, err := b.OpShape(x)
	if err != nil || !b.backend.kernelsFor(shape.DType) {
		return b.Builder.Transpose(x, permutation...)
	}
	out, err := shapeinference.TransposeOp(shape, permutation)
	if err != nil {
		return nil, fmt.Errorf("cpubackend: Transpose: %w", err)
	}
	return addKernel(b.Builder, &transposeOp{shape: out, inDims: shape.Dimensions,
		perm: slices.Clone(permutation)}, x)
}

// transposeOp permutes the axes of its input.
type transposeOp struct {
	shape  shapes.Shape
	inDims []int
	perm   []int
}

func (o *transposeOp) name() string              { return "Transpose" }
func (o *transposeOp) outputShape() shapes.Shape { return o.shape }

func (o *transposeOp) execute(backend *simplego.Backend, inputs []*simplego.Buffer,
	_ []bool) (*simplego.Buffer, error) {
	out := backend.NewBuffer(o.shape)
	switch o.shape.DType {
	case dtypes.Float32:
		transposeInto(flatOf[float32](backend, out), flatOf[float32](backend, inputs[0]),
			o.inDims, o.perm)
	case dtypes.Float64:
		transposeInto(flatOf[float64](backend, out), flatOf[float64](backend, inputs[0]),
			o.inDims, o.perm)
	}
	return out, nil
}
