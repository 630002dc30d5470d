package cpubackend

import (
	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/shapes"
)

// scatterOp is SelectAndScatterMax/Min on a kernel: for each window of the operand, the
// matching source value is added at the window's first largest (smallest) in-range value.
type scatterOp struct {
	shape shapes.Shape // the operand's
	isMax bool
	geom  windowGeometry
}

func (o *scatterOp) name() string              { return "SelectAndScatter" }
func (o *scatterOp) outputShape() shapes.Shape { return o.shape }

func (o *scatterOp) execute(backend *simplego.Backend, inputs []*simplego.Buffer,
	_ []bool) (*simplego.Buffer, error) {
	out := backend.NewBuffer(o.shape)
	switch o.shape.DType {
	case dtypes.Float32:
		selectAndScatter(flatOf[float32](backend, out), flatOf[float32](backend, inputs[0]),
			flatOf[float32](backend, inputs[1]), &o.geom, o.isMax)
	case dtypes.Float64:
		selectAndScatter(flatOf[float64](backend, out), flatOf[float64](backend, inputs[0]),
			flatOf[float64](backend, inputs[1]), &o.geom, o.isMax)
	}
	return out, nil
}

// selectAndScatter writes into out (shaped like x) the source values scattered to the
// selected position of each window. When windows never span the first axis its entries are
// handled in parallel; otherwise the scatter runs on one goroutine (windows may overlap).
func selectAndScatter[T float](out, x, source []T, g *windowGeometry, isMax bool) {
	clear(out)
	scatterRange := func(from, to int) {
		idx, w := make([]int, g.outer), make([]int, g.outer)
		best := getScratch[T](g.run)
		at := getScratch[int](g.run)
		defer putScratch(best)
		defer putScratch(at)
		for pos := from; pos < to; pos++ {
			g.outerIndex(pos, idx)
			first := true
			g.forEachWindowValue(idx, w, func(off int) {
				src := x[off : off+g.run]
				if first {
					copy(best, src)
					for j := range at {
						at[j] = off + j
					}
					first = false
					return
				}
				for j, v := range src {
					if (isMax && v > best[j]) || (!isMax && v < best[j]) {
						best[j], at[j] = v, off+j
					}
				}
			})
			if first {
				continue // the window lies in the padding
			}
			for j, v := range source[pos*g.run : (pos+1)*g.run] {
				out[at[j]] += v
			}
		}
	}
	if !g.parallelFirstDim || g.outDims[0] < 2 {
		scatterRange(0, g.outPositions)
		return
	}
	perEntry := g.outPositions / g.outDims[0]
	parallelRanges(g.outDims[0], 1, func(from, to int) {
		scatterRange(from*perEntry, to*perEntry)
	})
}

// selectAndScatterKernel adds a scatterOp node when the kernels handle the operand's dtype.
func (b *Builder) selectAndScatterKernel(isMax bool, operand, source backends.Op,
	window, strides []int, paddings [][2]int) (backends.Op, bool, error) {
	shape, err := b.OpShape(operand)
	if err != nil || !b.backend.kernelsFor(shape.DType) {
		return nil, false, nil
	}
	rank := shape.Rank()
	strides = defaultInts(strides, rank, 1)
	if len(window) != rank || len(strides) != rank ||
		(len(paddings) != 0 && len(paddings) != rank) {
		return nil, false, nil // the composition reports the error
	}
	outShape, err := shapeInferenceWindow(shape, window, strides, paddings)
	if err != nil {
		return nil, false, nil
	}
	srcShape, err := b.OpShape(source)
	if err != nil || !srcShape.Equal(outShape) {
		return nil, false, nil
	}
	geom := newWindowGeometry(shape.Dimensions, outShape.Dimensions, window, strides, paddings)
	op, err := addKernel(b.Builder, &scatterOp{shape: shape, isMax: isMax, geom: geom},
		operand, source)
	return op, true, err
}
