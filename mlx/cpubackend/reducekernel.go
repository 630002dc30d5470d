package cpubackend

import (
	"fmt"
	"math"
	"slices"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/shapeinference"
	"github.com/gomlx/gomlx/backends/simplego"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/shapes"
)

// ReduceSum sums x over the given axes (all of them when none is given).
func (b *Builder) ReduceSum(x backends.Op, axes ...int) (backends.Op, error) {
	return b.reduce(backends.ReduceOpSum, x, axes, b.Builder.ReduceSum)
}

// ReduceMax takes the largest value of x over the given axes (all of them when none is given).
func (b *Builder) ReduceMax(x backends.Op, axes ...int) (backends.Op, error) {
	return b.reduce(backends.ReduceOpMax, x, axes, b.Builder.ReduceMax)
}

// ReduceMin takes the smallest value of x over the given axes (all of them when none is
// given).
func (b *Builder) ReduceMin(x backends.Op, axes ...int) (backends.Op, error) {
	return b.reduce(backends.ReduceOpMin, x, axes, b.Builder.ReduceMin)
}

// reduce adds a reduction kernel for float dtypes, and uses SimpleGo's otherwise.
func (b *Builder) reduce(kind backends.ReduceOpType, x backends.Op, axes []int,
	fallback func(backends.Op, ...int) (backends.Op, error)) (backends.Op, error) {
	shape, err := b.OpShape(x)
	if err != nil || !b.backend.kernelsFor(shape.DType) {
		return fallback(x, axes...)
	}
	rank := shape.Rank()
	if len(axes) == 0 {
		axes = iotaInts(0, rank)
	}
	reduced := make([]bool, rank)
	for _, a := range axes {
		if a < 0 || a >= rank || reduced[a] {
			return nil, fmt.Errorf("cpubackend: Reduce%s: axes %v invalid for shape %s", kind,
				axes, shape)
		}
		reduced[a] = true
	}
	out, err := shapeinference.ReduceOp(shape, axes)
	if err != nil {
		return nil, fmt.Errorf("cpubackend: Reduce%s: %w", kind, err)
	}
	out.DType = shape.DType
	op := &reduceOp{shape: out, kind: kind}
	op.sizes, op.reduced = mergeAxes(shape.Dimensions, reduced)
	return addKernel(b.Builder, op, x)
}

// mergeAxes drops axes of size 1 and merges neighbouring axes that are both reduced or both
// kept, returning the sizes and flags of the groups.
func mergeAxes(dims []int, reduced []bool) (sizes []int, flags []bool) {
	for a, d := range dims {
		if d == 1 {
			continue
		}
		if n := len(sizes); n > 0 && flags[n-1] == reduced[a] {
			sizes[n-1] *= d
			continue
		}
		sizes = append(sizes, d)
		flags = append(flags, reduced[a])
	}
	return sizes, flags
}

// reduceOp is a sum, max or min over some axes, described by groups of merged axes.
type reduceOp struct {
	shape   shapes.Shape
	kind    backends.ReduceOpType
	sizes   []int
	reduced []bool
}

func (o *reduceOp) name() string              { return "Reduce" + o.kind.String() }
func (o *reduceOp) outputShape() shapes.Shape { return o.shape }

func (o *reduceOp) execute(backend *simplego.Backend, inputs []*simplego.Buffer,
	_ []bool) (*simplego.Buffer, error) {
	out := backend.NewBuffer(o.shape)
	switch o.shape.DType {
	case dtypes.Float32:
		reduceInto(flatOf[float32](backend, out), flatOf[float32](backend, inputs[0]),
			o.sizes, o.reduced, o.kind)
	case dtypes.Float64:
		reduceInto(flatOf[float64](backend, out), flatOf[float64](backend, inputs[0]),
			o.sizes, o.reduced, o.kind)
	}
	return out, nil
}

// identityOf returns the starting value of a reduction.
func identityOf[T float](kind backends.ReduceOpType) T {
	switch kind {
	case backends.ReduceOpMax:
		return T(math.Inf(-1))
	case backends.ReduceOpMin:
		return T(math.Inf(1))
	}
	return 0
}

// combine returns the reduction of a and b.
func combine[T float](kind backends.ReduceOpType, a, b T) T {
	switch kind {
	case backends.ReduceOpMax:
		if b > a {
			return b
		}
		return a
	case backends.ReduceOpMin:
		if b < a {
			return b
		}
		return a
	}
	return a + b
}

// reduceInto reduces x, made of groups of axes (sizes, with reduced flags), into out.
// Large inputs are cut along the first group over the cores: disjoint outputs when it is
// kept, partial results combined at the end when it is reduced.
func reduceInto[T float](out, x []T, sizes []int, reduced []bool, kind backends.ReduceOpType) {
	ident := identityOf[T](kind)
	if len(sizes) == 0 {
		// Every axis has size 1.
		copy(out, x)
		return
	}
	xStrides, outStrides := make([]int, len(sizes)), make([]int, len(sizes))
	xs, os := 1, 1
	for i := len(sizes) - 1; i >= 0; i-- {
		xStrides[i], outStrides[i] = xs, os
		xs *= sizes[i]
		if !reduced[i] {
			os *= sizes[i]
		}
	}
	r := reducer[T]{x: x, sizes: sizes, reduced: reduced, xStrides: xStrides,
		outStrides: outStrides, kind: kind}
	parts := 1
	if len(x) >= 1<<16 {
		parts = min(sizes[0], 4*maxWorkers())
	}
	if parts <= 1 {
		fill(out, ident)
		r.out = out
		r.level(0, 0, sizes[0], 0, 0)
		return
	}
	if !reduced[0] {
		fill(out, ident)
		parallelFor(parts, func(i int) {
			from, to := chunk(sizes[0], parts, i, 1)
			rr := r
			rr.out = out
			rr.level(0, from, to, 0, 0)
		})
		return
	}
	partials := make([][]T, parts)
	parallelFor(parts, func(i int) {
		from, to := chunk(sizes[0], parts, i, 1)
		p := getScratch[T](len(out))
		fill(p, ident)
		rr := r
		rr.out = p
		rr.level(0, from, to, 0, 0)
		partials[i] = p
	})
	copy(out, partials[0])
	for _, p := range partials[1:] {
		for i, v := range p {
			out[i] = combine(kind, out[i], v)
		}
	}
	for _, p := range partials {
		putScratch(p)
	}
}

// reducer walks the groups of a reduction.
type reducer[T float] struct {
	x, out               []T
	sizes                []int
	reduced              []bool
	xStrides, outStrides []int
	kind                 backends.ReduceOpType
}

// level reduces indices [from, to) of group i, starting at the given offsets.
func (r *reducer[T]) level(i, from, to, xOff, outOff int) {
	last := i == len(r.sizes)-1
	if last {
		src := r.x[xOff+from : xOff+to]
		if r.reduced[i] {
			acc := r.out[outOff]
			switch r.kind {
			case backends.ReduceOpSum:
				acc += sumOf(src)
			default:
				for _, v := range src {
					acc = combine(r.kind, acc, v)
				}
			}
			r.out[outOff] = acc
			return
		}
		dst := r.out[outOff+from : outOff+to]
		switch r.kind {
		case backends.ReduceOpSum:
			addInto(dst, src)
		default:
			for j, v := range src {
				dst[j] = combine(r.kind, dst[j], v)
			}
		}
		return
	}
	for j := from; j < to; j++ {
		o := outOff
		if !r.reduced[i] {
			o += j * r.outStrides[i]
		}
		r.level(i+1, 0, r.sizes[i+1], xOff+j*r.xStrides[i], o)
	}
}

// sumOf adds the values with four accumulators.
func sumOf[T float](s []T) T {
	var a0, a1, a2, a3 T
	i := 0
	for ; i+4 <= len(s); i += 4 {
		a0 += s[i]
		a1 += s[i+1]
		a2 += s[i+2]
		a3 += s[i+3]
	}
	for ; i < len(s); i++ {
		a0 += s[i]
	}
	return (a0 + a1) + (a2 + a3)
}

// fill sets every element of s to v.
func fill[T any](s []T, v T) {
	for i := range s {
		s[i] = v
	}
}

// ReduceWindow reduces windows of x: max, min and sum of float dtypes without dilations run
// on a kernel (padding counts as the reduction's identity), anything else on SimpleGo's.
func (b *Builder) ReduceWindow(x backends.Op, kind backends.ReduceOpType,
	window, strides, baseDilations, windowDilations []int,
	paddings [][2]int) (backends.Op, error) {
	fallback := func() (backends.Op, error) {
		return b.Builder.ReduceWindow(x, kind, window, strides, baseDilations, windowDilations,
			paddings)
	}
	shape, err := b.OpShape(x)
	if err != nil || !b.backend.kernelsFor(shape.DType) || kind == backends.ReduceOpProduct ||
		kind == backends.ReduceOpUndefined || !allOnes(baseDilations) ||
		!allOnes(windowDilations) || shape.Rank() == 0 {
		return fallback()
	}
	out, err := shapeinference.ReduceWindowOp(shape, window, strides, baseDilations,
		windowDilations, paddings)
	if err != nil {
		return nil, fmt.Errorf("cpubackend: ReduceWindow: %w", err)
	}
	geom := newWindowGeometry(shape.Dimensions, out.Dimensions, window, strides, paddings)
	return addKernel(b.Builder, &windowOp{shape: out, kind: kind, geom: geom}, x)
}

// shapeInferenceWindow returns the shape of the windows of operand (no dilations).
func shapeInferenceWindow(operand shapes.Shape, window, strides []int,
	paddings [][2]int) (shapes.Shape, error) {
	return shapeinference.ReduceWindowOp(operand, window, strides, nil, nil, paddings)
}

// allOnes reports whether values is empty or holds only ones.
func allOnes(values []int) bool {
	for _, v := range values {
		if v != 1 {
			return false
		}
	}
	return true
}

// windowGeometry describes windows over a tensor: the trailing axes with window 1, stride 1
// and no padding form runs of run contiguous values that are handled together; the leading
// outer axes carry the windows.
type windowGeometry struct {
	inDims, outDims  []int
	window, strides  []int
	padLo            []int
	outer            int // number of leading axes with windows
	run              int // values per run
	inStrides        []int
	outPositions     int // product of outDims[:outer]
	windowPositions  int
	parallelFirstDim bool // windows never span the first axis: its entries are independent
}

func newWindowGeometry(inDims, outDims, window, strides []int, paddings [][2]int) windowGeometry {
	rank := len(inDims)
	g := windowGeometry{inDims: inDims, outDims: outDims,
		window: defaultInts(window, rank, 1), padLo: make([]int, rank)}
	g.strides = strides
	if len(strides) == 0 {
		g.strides = slices.Clone(g.window)
	}
	for a := range rank {
		if len(paddings) > 0 {
			g.padLo[a] = paddings[a][0]
		}
	}
	g.outer = rank
	for g.outer > 0 {
		a := g.outer - 1
		if g.window[a] != 1 || g.strides[a] != 1 || outDims[a] != inDims[a] || g.padLo[a] != 0 {
			break
		}
		g.outer--
	}
	g.run = product(inDims[g.outer:])
	g.inStrides = rowMajorStrides(inDims)
	g.outPositions = product(outDims[:g.outer])
	g.windowPositions = product(g.window[:g.outer])
	g.parallelFirstDim = g.outer > 0 && g.window[0] == 1 && g.strides[0] == 1 &&
		g.padLo[0] == 0 && outDims[0] == inDims[0]
	return g
}

// forEachWindowValue calls fn with the input offset of each in-range window position of the
// output position whose outer index is idx (padding positions are skipped).
func (g *windowGeometry) forEachWindowValue(idx, w []int, fn func(off int)) {
	for i := range w {
		w[i] = 0
	}
	for range g.windowPositions {
		off, ok := 0, true
		for d := range g.outer {
			q := idx[d]*g.strides[d] + w[d] - g.padLo[d]
			if q < 0 || q >= g.inDims[d] {
				ok = false
				break
			}
			off += q * g.inStrides[d]
		}
		if ok {
			fn(off)
		}
		for d := g.outer - 1; d >= 0; d-- {
			w[d]++
			if w[d] < g.window[d] {
				break
			}
			w[d] = 0
		}
	}
}

// outerIndex sets idx to the multi-index of outer output position pos.
func (g *windowGeometry) outerIndex(pos int, idx []int) {
	for d := g.outer - 1; d >= 0; d-- {
		idx[d] = pos % g.outDims[d]
		pos /= g.outDims[d]
	}
}

// windowOp is ReduceWindow (max, min or sum) on a kernel.
type windowOp struct {
	shape shapes.Shape
	kind  backends.ReduceOpType
	geom  windowGeometry
}

func (o *windowOp) name() string              { return "ReduceWindow" }
func (o *windowOp) outputShape() shapes.Shape { return o.shape }

func (o *windowOp) execute(backend *simplego.Backend, inputs []*simplego.Buffer,
	_ []bool) (*simplego.Buffer, error) {
	out := backend.NewBuffer(o.shape)
	switch o.shape.DType {
	case dtypes.Float32:
		reduceWindows(flatOf[float32](backend, out), flatOf[float32](backend, inputs[0]),
			&o.geom, o.kind)
	case dtypes.Float64:
		reduceWindows(flatOf[float64](backend, out), flatOf[float64](backend, inputs[0]),
			&o.geom, o.kind)
	}
	return out, nil
}

// reduceWindows computes every window of x into out, output positions split over the cores.
func reduceWindows[T float](out, x []T, g *windowGeometry, kind backends.ReduceOpType) {
	ident := identityOf[T](kind)
	parallelRanges(g.outPositions, max(1, (1<<14)/max(g.run, 1)), func(from, to int) {
		idx, w := make([]int, g.outer), make([]int, g.outer)
		for pos := from; pos < to; pos++ {
			g.outerIndex(pos, idx)
			dst := out[pos*g.run : (pos+1)*g.run]
			fill(dst, ident)
			g.forEachWindowValue(idx, w, func(off int) {
				src := x[off : off+g.run]
				switch kind {
				case backends.ReduceOpSum:
					for j, v := range src {
						dst[j] += v
					}
				case backends.ReduceOpMax:
					for j, v := range src {
						if v > dst[j] {
							dst[j] = v
						}
					}
				default:
					for j, v := range src {
						if v < dst[j] {
							dst[j] = v
						}
					}
				}
			})
		}
	})
}

// addInto adds src to dst, element by element.
func addInto[T float](dst, src []T) {
	src = src[:len(dst)]
	done := vecApply(fuseAdd, formVV, dst, dst, src, nil)
	for j := done; j < len(dst); j++ {
		dst[j] += src[j]
	}
}
