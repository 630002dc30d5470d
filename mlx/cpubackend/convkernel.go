package cpubackend

import (
	"fmt"
	"slices"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/shapes"
)

// maxConvSpatial is the largest spatial rank the convolution kernel handles (others are
// composed).
const maxConvSpatial = 6

// convKernel adds a node computing an ungrouped convolution with the native kernel: the
// patches of the input are gathered while packing the left operand of the matrix product
// (implicit im2col), so no patch matrix is ever built. A kernel that is the output of this
// package's Reverse over spatial axes is read reversed in place.
func (c *composer) convKernel(input, kernel backends.Op, p convParams) backends.Op {
	if c.err != nil {
		return nil
	}
	inShape, kShape := c.shape(input), c.shape(kernel)
	var reversed []bool
	if rev, ok := reverseOf(kernel); ok {
		kernel, reversed = rev.input, rev.reversedAxes()
	}
	var op kernelOp
	var err error
	switch inShape.DType {
	case dtypes.Float32:
		op, err = newConvOp[float32](inShape, kShape, p, reversed)
	case dtypes.Float64:
		op, err = newConvOp[float64](inShape, kShape, p, reversed)
	default:
		err = fmt.Errorf("dtype %s has no convolution kernel", inShape.DType)
	}
	if !c.check("convolution kernel", err) {
		return nil
	}
	out, err := addKernel(c.b, op, input, kernel)
	c.check("convolution kernel", err)
	return out
}

// convOp is a convolution run natively: in canonical terms the input is
// [batch, spatial..., in] (transposed to it first when it is laid out otherwise), the kernel
// [spatial..., in, out] (read in place through offset tables) and the output
// [batch, outSpatial..., out] (transposed to the requested layout when that differs).
type convOp[T float] struct {
	shape shapes.Shape // output, in the requested layout
	geom  convGeometry

	inDims  []int // input dims as given
	inPerm  []int // input axes in canonical order; nil when the input is canonical
	outPerm []int // transposition of the canonical output; nil when not needed

	kernelRows offsets // offset of each (kernel position, input channel)
	kernelCols offsets // offset of each output channel

	// direct is set when the micro-kernel reads the input in place (see directConv).
	direct bool
}

// convGeometry holds the sizes of a canonical convolution and what the patch packer needs.
type convGeometry struct {
	n                   int // spatial rank
	batch, inCh, outCh  int
	inSpatial, outSpat  []int
	strides, padLo      []int
	inDil               []int
	spatialStride       []int // canonical input strides of the spatial axes
	batchStride         int
	kPos                []int // kernel position i, axis d: kPos[i*n+d] = k_d * dilation_d
	numKernelPositions  int
	m, k                int // rows (batch x output positions) and depth (positions x in)
	canonOutDims        []int
	lastAxisContiguous  bool // along the last spatial axis, kernel steps are input steps
	lastKernelPositions int
}

// newConvOp checks a convolution and prepares its tables. reversed, when not nil, marks the
// kernel axes to read backwards.
func newConvOp[T float](inShape, kShape shapes.Shape, p convParams, reversed []bool) (
	*convOp[T], error) {
	axes := p.axes
	n := len(axes.InputSpatial)
	if n > maxConvSpatial {
		return nil, fmt.Errorf("%d spatial axes, at most %d", n, maxConvSpatial)
	}
	inDims, kDims := inShape.Dimensions, kShape.Dimensions
	g := convGeometry{
		n:       n,
		batch:   inDims[axes.InputBatch],
		inCh:    inDims[axes.InputChannels],
		outCh:   kDims[axes.KernelOutputChannels],
		strides: p.strides,
		inDil:   p.inputDilations,
	}
	if kDims[axes.KernelInputChannels] != g.inCh {
		return nil, fmt.Errorf("kernel has %d input channels, input %d",
			kDims[axes.KernelInputChannels], g.inCh)
	}
	kSpatial := make([]int, n)
	for d := range n {
		g.inSpatial = append(g.inSpatial, inDims[axes.InputSpatial[d]])
		kSpatial[d] = kDims[axes.KernelSpatial[d]]
		g.padLo = append(g.padLo, p.paddings[d][0])
		padded := (g.inSpatial[d]-1)*p.inputDilations[d] + 1 + p.paddings[d][0] +
			p.paddings[d][1]
		span := (kSpatial[d]-1)*p.kernelDilations[d] + 1
		if padded < span || p.strides[d] < 1 || p.inputDilations[d] < 1 ||
			p.kernelDilations[d] < 1 {
			return nil, fmt.Errorf("spatial axis %d: padded input %d, kernel span %d, stride %d",
				d, padded, span, p.strides[d])
		}
		g.outSpat = append(g.outSpat, (padded-span)/p.strides[d]+1)
	}
	if g.batch == 0 || g.inCh == 0 || g.outCh == 0 || product(g.inSpatial) == 0 ||
		product(kSpatial) == 0 {
		return nil, fmt.Errorf("empty convolution")
	}
	canonIn := append(append([]int{g.batch}, g.inSpatial...), g.inCh)
	inStrides := rowMajorStrides(canonIn)
	g.batchStride = inStrides[0]
	g.spatialStride = inStrides[1 : n+1]
	g.numKernelPositions = product(kSpatial)
	g.kPos = make([]int, 0, g.numKernelPositions*n)
	forEachIndex(kSpatial, func(idx []int) {
		for d, v := range idx {
			g.kPos = append(g.kPos, v*p.kernelDilations[d])
		}
	})
	g.m = g.batch * product(g.outSpat)
	g.k = g.numKernelPositions * g.inCh
	g.canonOutDims = append(append([]int{g.batch}, g.outSpat...), g.outCh)
	g.lastAxisContiguous = p.kernelDilations[n-1] == 1 && p.inputDilations[n-1] == 1
	g.lastKernelPositions = kSpatial[n-1]

	op := &convOp[T]{geom: g, inDims: inDims}
	inPerm := append(append([]int{axes.InputBatch}, axes.InputSpatial...), axes.InputChannels)
	if !isIdentityPerm(inPerm) {
		op.inPerm = inPerm
	}
	outPerm := make([]int, n+2)
	outPerm[axes.OutputBatch] = 0
	for i, a := range axes.OutputSpatial {
		outPerm[a] = i + 1
	}
	outPerm[axes.OutputChannels] = n + 1
	if !isIdentityPerm(outPerm) {
		op.outPerm = outPerm
	}
	outDims := g.canonOutDims
	if op.outPerm != nil {
		outDims = permutedDims(g.canonOutDims, op.outPerm)
	}
	op.shape = shapes.Make(inShape.DType, outDims...)
	rowAxes := append(slices.Clone(axes.KernelSpatial), axes.KernelInputChannels)
	op.kernelRows = newOffsets(axesOffsets(kDims, rowAxes, reversed))
	op.kernelCols = newOffsets(axesOffsets(kDims, []int{axes.KernelOutputChannels}, reversed))
	op.direct = n == 2 && p.inputDilations[0] == 1 && p.inputDilations[1] == 1 &&
		p.kernelDilations[1] == 1 && g.inCh >= minDirectChannels && g.outSpat[1] >= gemmMR
	return op, nil
}

func (o *convOp[T]) name() string              { return "ConvGeneral" }
func (o *convOp[T]) outputShape() shapes.Shape { return o.shape }

func (o *convOp[T]) execute(backend *simplego.Backend, inputs []*simplego.Buffer,
	_ []bool) (*simplego.Buffer, error) {
	g := &o.geom
	x := flatOf[T](backend, inputs[0])
	if o.inPerm != nil {
		canon := getScratch[T](len(x))
		defer putScratch(canon)
		transposeInto(canon, x, o.inDims, o.inPerm)
		x = canon
	}
	out := backend.NewBuffer(o.shape)
	c := flatOf[T](backend, out)
	if o.outPerm != nil {
		c = getScratch[T](g.m * g.outCh)
		defer putScratch(c)
	}
	kernel := &tableMatrix[T]{data: flatOf[T](backend, inputs[1]), rows: o.kernelRows,
		cols: o.kernelCols}
	if o.direct {
		directConv(x, kernel, c, g)
	} else {
		job := gemmJob[T]{batch: 1, m: g.m, n: g.outCh, k: g.k,
			a: &patchPacker[T]{x: x, g: g}, b: kernel, c: c}
		job.run()
	}
	if o.outPerm != nil {
		transposeInto(flatOf[T](backend, out), c, g.canonOutDims, o.outPerm)
	}
	return out, nil
}

// patchPacker is the patch matrix of a convolution, never built: row i is output position i
// (batch entry, then output spatial position), column j is kernel position j / in with input
// channel j % in, and the value is the matching input value, or zero where it falls in the
// padding or between dilated input values.
type patchPacker[T float] struct {
	x []T // canonical input
	g *convGeometry
}

// packA implements aPacker: each row is copied run by run, a run being the input channels at
// one kernel position (or several kernel positions along the last spatial axis when they are
// neighbours in the input).
func (pp *patchPacker[T]) packA(dst []T, _, i0, rows, p0, depth int) {
	g := pp.g
	if g.n == 2 && g.inDil[0] == 1 && g.inDil[1] == 1 {
		pp.packA2D(dst, i0, rows, p0, depth)
		return
	}
	n, inCh := g.n, g.inCh
	var start [maxConvSpatial]int
	for r := range (rows + gemmMR - 1) / gemmMR * gemmMR {
		row := dst[r*depth : r*depth+depth]
		if r >= rows {
			clear(row)
			continue
		}
		rem := i0 + r
		for d := n - 1; d >= 0; d-- {
			o := rem % g.outSpat[d]
			rem /= g.outSpat[d]
			start[d] = o*g.strides[d] - g.padLo[d]
		}
		base := rem * g.batchStride
		for pos := p0; pos < p0+depth; {
			kIdx, c0 := pos/inCh, pos%inCh
			run := min(inCh-c0, p0+depth-pos)
			kp := g.kPos[kIdx*n : kIdx*n+n]
			off, ok := base, true
			var last int
			for d := range n {
				q := start[d] + kp[d]
				if q < 0 {
					ok = false
					break
				}
				if dil := g.inDil[d]; dil > 1 {
					if q%dil != 0 {
						ok = false
						break
					}
					q /= dil
				}
				if q >= g.inSpatial[d] {
					ok = false
					break
				}
				off += q * g.spatialStride[d]
				last = q
			}
			if ok && c0 == 0 && run == inCh && g.lastAxisContiguous {
				// Extend the run over the next kernel positions along the last axis while they
				// read the next input positions.
				kLast := kIdx % g.lastKernelPositions
				more := min(g.lastKernelPositions-1-kLast, g.inSpatial[n-1]-1-last,
					(p0+depth-pos-run)/inCh)
				run += more * inCh
			}
			seg := row[pos-p0 : pos-p0+run]
			if ok {
				copy(seg, pp.x[off+c0:off+c0+run])
			} else {
				clear(seg)
			}
			pos += run
		}
	}
}

// packA2D is packA for two spatial axes without input dilation, the common case.
func (pp *patchPacker[T]) packA2D(dst []T, i0, rows, p0, depth int) {
	g := pp.g
	inCh, x, kPos := g.inCh, pp.x, g.kPos
	outH, outW := g.outSpat[0], g.outSpat[1]
	inH, inW := g.inSpatial[0], g.inSpatial[1]
	rowStride, colStride := g.spatialStride[0], g.spatialStride[1]
	kw, contiguous := g.lastKernelPositions, g.lastAxisContiguous
	end := p0 + depth
	for r := range (rows + gemmMR - 1) / gemmMR * gemmMR {
		row := dst[r*depth : r*depth+depth]
		if r >= rows {
			clear(row)
			continue
		}
		i := i0 + r
		ox, t := i%outW, i/outW
		oy, b := t%outH, t/outH
		y0, x0 := oy*g.strides[0]-g.padLo[0], ox*g.strides[1]-g.padLo[1]
		base := b * g.batchStride
		for pos := p0; pos < end; {
			kIdx, c0 := pos/inCh, pos%inCh
			run := min(inCh-c0, end-pos)
			qy, qx := y0+kPos[2*kIdx], x0+kPos[2*kIdx+1]
			if qy < 0 || qy >= inH || qx < 0 || qx >= inW {
				clear(row[pos-p0 : pos-p0+run])
				pos += run
				continue
			}
			if c0 == 0 && run == inCh && contiguous {
				// Neighbouring kernel positions along the row read neighbouring pixels.
				more := min(kw-1-kIdx%kw, inW-1-qx, (end-pos-run)/inCh)
				run += more * inCh
			}
			off := base + qy*rowStride + qx*colStride + c0
			copy(row[pos-p0:pos-p0+run], x[off:off+run])
			pos += run
		}
	}
}

// minDirectChannels is the fewest input channels for which directConv is used: below, the
// rows it hands the micro-kernel are too short.
const minDirectChannels = 8

// directConv computes a two-dimensional convolution (no input dilation, no kernel dilation
// along the row) without packing the patches: for each run of gemmMR output pixels of one
// output row and each kernel row, the pixels' patches are gemmMR runs of kw*in input values
// lying stride*in apart in the canonical input, which the micro-kernel reads in place, the
// kernel row's part of the packed kernel beside it. Runs that reach into the padding are
// packed with their zeros first. Output rows are split over the cores; the kernel is packed
// once.
func directConv[T float](x []T, kernel *tableMatrix[T], out []T, g *convGeometry) {
	nr, mk := gemmNR[T](), kernelFor[T]()
	inCh, outCh := g.inCh, g.outCh
	kh, kw := g.numKernelPositions/g.lastKernelPositions, g.lastKernelPositions
	outH, outW := g.outSpat[0], g.outSpat[1]
	inH, inW := g.inSpatial[0], g.inSpatial[1]
	rowStride := g.spatialStride[0]
	seg := kw * inCh // values of one kernel row of a patch
	panels := (outCh + nr - 1) / nr

	packed := getScratch[T](panels * nr * g.k)
	defer putScratch(packed)
	kernel.packB(packed, 0, 0, g.k, 0, outCh)

	parallelRanges(g.batch*outH, 1, func(from, to int) {
		edge := getScratch[T](kh * gemmMR * seg)
		tile := getScratch[T](gemmMR * nr)
		defer putScratch(edge)
		defer putScratch(tile)
		a := make([][]T, kh) // the rows of each kernel row, nil when all in the padding
		lda := make([]int, kh)
		for row := from; row < to; row++ {
			b, oy := row/outH, row%outH
			base := b * g.batchStride
			for x0 := 0; x0 < outW; x0 += gemmMR {
				rows := min(gemmMR, outW-x0)
				qx0 := x0*g.strides[1] - g.padLo[1]
				qxLast := (x0+rows-1)*g.strides[1] - g.padLo[1] + kw - 1
				for ky := range kh {
					qy := oy*g.strides[0] - g.padLo[0] + g.kPos[2*ky*kw]
					switch {
					case qy < 0 || qy >= inH:
						a[ky] = nil
					case rows == gemmMR && qx0 >= 0 && qxLast < inW:
						off := base + qy*rowStride + qx0*inCh
						lda[ky] = g.strides[1] * inCh
						a[ky] = x[off : off+(gemmMR-1)*lda[ky]+seg]
					default:
						buf := edge[ky*gemmMR*seg : (ky+1)*gemmMR*seg]
						packEdgeRows(buf, x, base+qy*rowStride, x0, rows, seg, g, inW)
						a[ky], lda[ky] = buf, seg
					}
				}
				for q := range panels {
					cols := min(nr, outCh-q*nr)
					c := out[(row*outW+x0)*outCh+q*nr:]
					ldc := outCh
					full := rows == gemmMR && cols == nr
					if !full {
						c, ldc = tile, nr
					}
					acc := false
					for ky := range kh {
						if a[ky] == nil {
							continue
						}
						bPanel := packed[q*nr*g.k+ky*seg*nr : q*nr*g.k+(ky+1)*seg*nr]
						mk(seg, a[ky], bPanel, c, lda[ky], ldc, acc)
						acc = true
					}
					if !acc {
						// Every kernel row falls in the padding.
						for r := range gemmMR {
							clear(c[r*ldc : r*ldc+cols])
						}
					}
					if !full {
						for r := range rows {
							dst := out[(row*outW+x0+r)*outCh+q*nr:]
							copy(dst[:cols], tile[r*nr:r*nr+cols])
						}
					}
				}
			}
		}
	})
}

// packEdgeRows writes the kernel-row runs of the patches of output pixels x0..x0+rows-1
// (one output row, input row at offset rowOff) to buf as gemmMR rows of seg values, zero
// where they fall in the padding; rows past rows are zeros.
func packEdgeRows[T float](buf, x []T, rowOff, x0, rows, seg int, g *convGeometry, inW int) {
	inCh := g.inCh
	for r := range gemmMR {
		dst := buf[r*seg : (r+1)*seg]
		if r >= rows {
			clear(dst)
			continue
		}
		qx := (x0+r)*g.strides[1] - g.padLo[1]
		for kx := range seg / inCh {
			d := dst[kx*inCh : (kx+1)*inCh]
			if q := qx + kx; q < 0 || q >= inW {
				clear(d)
			} else {
				copy(d, x[rowOff+q*inCh:rowOff+(q+1)*inCh])
			}
		}
	}
}
