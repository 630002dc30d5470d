package cpubackend

import (
	"fmt"
	"slices"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/shapes"
)

// DotGeneral contracts lhs and rhs over the contracting axes, batched over the batch axes;
// the result is shaped [batch..., lhs cross..., rhs cross...]. Float32 and float64 products
// run on this package's blocked matrix product, reading the operands in place whatever their
// layout; other dtypes use SimpleGo's.
func (b *Builder) DotGeneral(lhs backends.Op, lhsContracting, lhsBatch []int, rhs backends.Op,
	rhsContracting, rhsBatch []int) (backends.Op, error) {
	lhsShape, err := b.OpShape(lhs)
	if err != nil {
		return nil, fmt.Errorf("cpubackend: DotGeneral: %w", err)
	}
	if !b.backend.kernelsFor(lhsShape.DType) {
		return b.Builder.DotGeneral(lhs, lhsContracting, lhsBatch, rhs, rhsContracting,
			rhsBatch)
	}
	rhsShape, err := b.OpShape(rhs)
	if err != nil {
		return nil, fmt.Errorf("cpubackend: DotGeneral: %w", err)
	}
	var op kernelOp
	switch lhsShape.DType {
	case dtypes.Float32:
		op, err = newDotOp[float32](lhsShape, rhsShape, lhsContracting, lhsBatch,
			rhsContracting, rhsBatch)
	case dtypes.Float64:
		op, err = newDotOp[float64](lhsShape, rhsShape, lhsContracting, lhsBatch,
			rhsContracting, rhsBatch)
	}
	if err != nil {
		return nil, err
	}
	return addKernel(b.Builder, op, lhs, rhs)
}

// dotOp is DotGeneral as one batched matrix product over offset tables of the operands.
type dotOp[T float] struct {
	shape          shapes.Shape
	batch, m, n, k int
	lhsBatch       []int
	lhsRows        offsets // lhs cross axes
	lhsCols        offsets // lhs contracting axes
	rhsBatch       []int
	rhsRows        offsets // rhs contracting axes
	rhsCols        offsets // rhs cross axes
}

// newDotOp validates the axes of a DotGeneral and builds its offset tables.
func newDotOp[T float](lhs, rhs shapes.Shape, lhsContracting, lhsBatch, rhsContracting,
	rhsBatch []int) (*dotOp[T], error) {
	fail := func(format string, args ...any) (*dotOp[T], error) {
		return nil, fmt.Errorf("cpubackend: DotGeneral(%s, %s): %s", lhs, rhs,
			fmt.Sprintf(format, args...))
	}
	if lhs.DType != rhs.DType {
		return fail("dtypes differ")
	}
	if len(lhsContracting) != len(rhsContracting) || len(lhsBatch) != len(rhsBatch) {
		return fail("%d/%d contracting and %d/%d batch axes", len(lhsContracting),
			len(rhsContracting), len(lhsBatch), len(rhsBatch))
	}
	lhsC, lhsB, lhsCross, err := dotAxes(lhs.Rank(), lhsContracting, lhsBatch)
	if err != nil {
		return fail("lhs: %v", err)
	}
	rhsC, rhsB, rhsCross, err := dotAxes(rhs.Rank(), rhsContracting, rhsBatch)
	if err != nil {
		return fail("rhs: %v", err)
	}
	for i := range lhsC {
		if lhs.Dimensions[lhsC[i]] != rhs.Dimensions[rhsC[i]] {
			return fail("contracting axes %d and %d differ in size", lhsC[i], rhsC[i])
		}
	}
	var outDims []int
	for i := range lhsB {
		if lhs.Dimensions[lhsB[i]] != rhs.Dimensions[rhsB[i]] {
			return fail("batch axes %d and %d differ in size", lhsB[i], rhsB[i])
		}
		outDims = append(outDims, lhs.Dimensions[lhsB[i]])
	}
	for _, a := range lhsCross {
		outDims = append(outDims, lhs.Dimensions[a])
	}
	for _, a := range rhsCross {
		outDims = append(outDims, rhs.Dimensions[a])
	}
	op := &dotOp[T]{
		shape:    shapes.Make(lhs.DType, outDims...),
		lhsBatch: axesOffsets(lhs.Dimensions, lhsB, nil),
		lhsRows:  newOffsets(axesOffsets(lhs.Dimensions, lhsCross, nil)),
		lhsCols:  newOffsets(axesOffsets(lhs.Dimensions, lhsC, nil)),
		rhsBatch: axesOffsets(rhs.Dimensions, rhsB, nil),
		rhsRows:  newOffsets(axesOffsets(rhs.Dimensions, rhsC, nil)),
		rhsCols:  newOffsets(axesOffsets(rhs.Dimensions, rhsCross, nil)),
	}
	op.batch, op.m, op.n, op.k = len(op.lhsBatch), len(op.lhsRows.at), len(op.rhsCols.at),
		len(op.lhsCols.at)
	return op, nil
}

// dotAxes normalises the contracting and batch axes of an operand of the given rank
// (negative axes count from the end), checks that no axis is used twice, and returns the
// remaining (cross) axes in order.
func dotAxes(rank int, contracting, batch []int) (c, b, cross []int, err error) {
	used := make([]bool, rank)
	norm := func(axes []int) ([]int, error) {
		out := make([]int, len(axes))
		for i, a := range axes {
			if a < 0 {
				a += rank
			}
			if a < 0 || a >= rank {
				return nil, fmt.Errorf("axis %d out of range for rank %d", axes[i], rank)
			}
			if used[a] {
				return nil, fmt.Errorf("axis %d used twice", a)
			}
			used[a] = true
			out[i] = a
		}
		return out, nil
	}
	if c, err = norm(contracting); err != nil {
		return
	}
	if b, err = norm(batch); err != nil {
		return
	}
	for a := range rank {
		if !used[a] {
			cross = append(cross, a)
		}
	}
	return
}

func (o *dotOp[T]) name() string              { return "DotGeneral" }
func (o *dotOp[T]) outputShape() shapes.Shape { return o.shape }

func (o *dotOp[T]) execute(backend *simplego.Backend, inputs []*simplego.Buffer,
	_ []bool) (*simplego.Buffer, error) {
	out := backend.NewBuffer(o.shape)
	job := gemmJob[T]{
		batch: o.batch, m: o.m, n: o.n, k: o.k,
		a: &tableMatrix[T]{data: flatOf[T](backend, inputs[0]), batch: o.lhsBatch,
			rows: o.lhsRows, cols: o.lhsCols},
		b: &tableMatrix[T]{data: flatOf[T](backend, inputs[1]), batch: o.rhsBatch,
			rows: o.rhsRows, cols: o.rhsCols},
		c: flatOf[T](backend, out),
	}
	job.run()
	return out, nil
}

// kernelsFor reports whether this package's kernels handle dtype on this backend.
func (b *Backend) kernelsFor(dtype dtypes.DType) bool {
	return b.kernels && kernelsOK && slices.Contains([]dtypes.DType{dtypes.Float32,
		dtypes.Float64}, dtype)
}
