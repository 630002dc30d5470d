package cpubackend

import (
	"reflect"
	"slices"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/shapes"
)

// Pad pads x with the scalar fillValue: per axis, Interior values between neighbours first,
// then Start values before and End values after; negative Start or End remove values.
// Axes without a PadAxis are left as they are.
//
// It is composed of Reshape, Concatenate (with broadcast fill blocks) and Slice.
func (b *Builder) Pad(x, fillValue backends.Op, axesConfig ...backends.PadAxis) (backends.Op,
	error) {
	c := newComposer(b.Builder, "Pad")
	xShape, fillShape := c.shape(x), c.shape(fillValue)
	if c.err != nil {
		return nil, c.err
	}
	if !fillShape.IsScalar() || fillShape.DType != xShape.DType {
		c.failf("fill value must be a scalar of dtype %s, got %s", xShape.DType, fillShape)
		return nil, c.err
	}
	if len(axesConfig) > xShape.Rank() {
		c.failf("%d axes configured for operand of rank %d (%s)", len(axesConfig),
			xShape.Rank(), xShape)
		return nil, c.err
	}
	out := c.pad(x, fillValue, axesConfig)
	return c.result(out, x)
}

// pad implements Pad, one axis after another.
func (c *composer) pad(x, fill backends.Op, config []backends.PadAxis) backends.Op {
	for axis, pc := range config {
		if c.err != nil {
			return nil
		}
		if pc.Interior < 0 {
			c.failf("negative interior padding %d on axis %d", pc.Interior, axis)
			return nil
		}
		if pc.Interior > 0 {
			x = c.padInterior(x, fill, axis, pc.Interior)
		}
		x = c.padEdges(x, fill, axis, pc.Start, pc.End)
	}
	return x
}

// padInterior inserts n copies of fill between neighbouring values along axis.
func (c *composer) padInterior(x, fill backends.Op, axis, n int) backends.Op {
	shape := c.shape(x)
	if c.err != nil {
		return nil
	}
	dims := shape.Dimensions
	size := dims[axis]
	if size <= 1 {
		return x
	}

	// [..., size, ...] -> [..., size, 1, ...], joined with fill [..., size, n, ...].
	split := slices.Insert(slices.Clone(dims), axis+1, 1)
	x = c.reshape(x, split...)
	blockDims := slices.Clone(split)
	blockDims[axis+1] = n
	block := c.fill(fill, shapes.Make(shape.DType, blockDims...))
	x = c.concat(axis+1, x, block)

	// Merge back to [..., size*(n+1), ...] and drop the trailing fill.
	merged := slices.Clone(dims)
	merged[axis] = size * (n + 1)
	x = c.reshape(x, merged...)
	return c.sliceAxis(x, axis, 0, (size-1)*(n+1)+1)
}

// padEdges adds (or, when negative, removes) start and end values along axis.
func (c *composer) padEdges(x, fill backends.Op, axis, start, end int) backends.Op {
	shape := c.shape(x)
	if c.err != nil {
		return nil
	}
	size := shape.Dimensions[axis]
	if start < 0 || end < 0 {
		from, to := max(-start, 0), size-max(-end, 0)
		if to <= from {
			c.failf("padding (%d, %d) leaves nothing of axis %d of size %d", start, end, axis, size)
			return nil
		}
		x = c.sliceAxis(x, axis, from, to)
	}
	if start <= 0 && end <= 0 {
		return x
	}
	parts := make([]backends.Op, 0, 3)
	block := func(n int) backends.Op {
		dims := c.dims(x)
		dims[axis] = n
		return c.fill(fill, shapes.Make(shape.DType, dims...))
	}
	if start > 0 {
		parts = append(parts, block(start))
	}
	parts = append(parts, x)
	if end > 0 {
		parts = append(parts, block(end))
	}
	return c.concat(axis, parts...)
}

// Reverse returns x with the order of the values along the given axes reversed.
//
// It is one Gather per reversed axis (of size > 1), with the reversed indices as constant.
func (b *Builder) Reverse(x backends.Op, axes ...int) (backends.Op, error) {
	c := newComposer(b.Builder, "Reverse")
	shape := c.shape(x)
	if c.err != nil {
		return nil, c.err
	}
	rank := shape.Rank()
	out := x
	seen := make([]bool, rank)
	for _, axis := range axes {
		if axis < 0 {
			axis += rank
		}
		if axis < 0 || axis >= rank {
			c.failf("axis out of range for shape %s: %v", shape, axes)
			return nil, c.err
		}
		if seen[axis] {
			c.failf("axis %d given twice: %v", axis, axes)
			return nil, c.err
		}
		seen[axis] = true
	}
	var reversed []int
	for axis, r := range seen {
		if r && shape.Dimensions[axis] > 1 {
			reversed = append(reversed, axis)
		}
	}
	if len(reversed) > 0 && b.backend.kernelsFor(shape.DType) {
		return addKernel(b.Builder, &reverseOp{shape: shape, axes: reversed, input: x}, x)
	}
	for _, axis := range reversed {
		out = c.reverseAxis(out, shape, axis)
	}
	return c.result(out, x)
}

// reverseAxis gathers the slices of x along axis in reverse order.
func (c *composer) reverseAxis(x backends.Op, shape shapes.Shape, axis int) backends.Op {
	if c.err != nil {
		return nil
	}
	n := shape.Dimensions[axis]
	indices := make([]int32, n)
	for i := range indices {
		indices[i] = int32(n - 1 - i)
	}
	idx, err := c.b.Constant(indices, n, 1)
	if !c.check("Constant", err) {
		return nil
	}
	rank := shape.Rank()
	offsetAxes := slices.DeleteFunc(iotaInts(0, rank), func(a int) bool { return a == axis })
	sliceSizes := slices.Clone(shape.Dimensions)
	sliceSizes[axis] = 1
	y, err := c.b.Gather(x, idx, 1, offsetAxes, []int{axis}, []int{axis}, sliceSizes, false)
	c.check("Gather", err)
	return y
}

// zeroOf returns a scalar zero of dtype.
func (c *composer) zeroOf(dtype dtypes.DType) backends.Op {
	goType := dtype.GoType()
	if goType == nil {
		c.failf("unsupported dtype %s", dtype)
		return nil
	}
	return c.scalar(dtype, reflect.Zero(goType).Interface())
}
