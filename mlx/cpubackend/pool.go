package cpubackend

import (
	"slices"

	"github.com/gomlx/gomlx/backends"
)

// SelectAndScatterMax is the gradient of max pooling: for each window of operand (given by
// windowDimensions, windowStrides and paddings, one value per axis) it adds the matching value
// of source to the position of the window's largest value (the first one on ties).
func (b *Builder) SelectAndScatterMax(operand, source backends.Op, windowDimensions,
	windowStrides []int, paddings [][2]int) (backends.Op, error) {
	return b.selectAndScatter("SelectAndScatterMax", true, operand, source, windowDimensions,
		windowStrides, paddings)
}

// SelectAndScatterMin is SelectAndScatterMax for the smallest value (gradient of min pooling).
func (b *Builder) SelectAndScatterMin(operand, source backends.Op, windowDimensions,
	windowStrides []int, paddings [][2]int) (backends.Op, error) {
	return b.selectAndScatter("SelectAndScatterMin", false, operand, source, windowDimensions,
		windowStrides, paddings)
}

// selectAndScatter composes SelectAndScatterMax/Min:
//
//  1. pad operand with the lowest (highest) value of its dtype;
//  2. take one strided Slice per window offset k, shaped like source, and their running
//     max (min) m;
//  3. offset k is selected where it equals m and no earlier offset did;
//  4. the selected source values are put back in place: by interleaving (Reshape and
//     Transpose) when windows do not overlap (stride == window), else by an interior Pad per
//     offset, summed;
//  5. the padding is cut off.
func (b *Builder) selectAndScatter(name string, isMax bool, operand, source backends.Op,
	window, strides []int, paddings [][2]int) (backends.Op, error) {
	if op, ok, err := b.selectAndScatterKernel(isMax, operand, source, window, strides,
		paddings); ok {
		return op, err
	}
	c := newComposer(b.Builder, name)
	xShape, srcShape := c.shape(operand), c.shape(source)
	if c.err != nil {
		return nil, c.err
	}
	rank := xShape.Rank()
	if len(window) != rank {
		c.failf("%d window dimensions for operand %s", len(window), xShape)
		return nil, c.err
	}
	strides = defaultInts(strides, rank, 1)
	if len(strides) != rank {
		c.failf("%d strides for operand %s", len(strides), xShape)
		return nil, c.err
	}
	if paddings == nil {
		paddings = make([][2]int, rank)
	}
	if len(paddings) != rank {
		c.failf("%d paddings for operand %s", len(paddings), xShape)
		return nil, c.err
	}

	// 1. Padding with the value that never wins.
	var extreme any
	if isMax {
		extreme = xShape.DType.LowestValue()
	} else {
		extreme = xShape.DType.HighestValue()
	}
	padConfig := make([]backends.PadAxis, rank)
	for a, p := range paddings {
		padConfig[a] = backends.PadAxis{Start: p[0], End: p[1]}
	}
	x := c.pad(operand, c.scalar(xShape.DType, extreme), padConfig)
	pDims := c.dims(x)
	if c.err != nil {
		return nil, c.err
	}

	outDims := make([]int, rank)
	for a := range rank {
		outDims[a] = (pDims[a]-window[a])/strides[a] + 1
		if pDims[a] < window[a] {
			c.failf("window %v larger than padded operand %v", window, pDims)
			return nil, c.err
		}
	}
	if !slices.Equal(outDims, srcShape.Dimensions) || srcShape.DType != xShape.DType {
		c.failf("source shaped %s, want (%s)%v", srcShape, xShape.DType, outDims)
		return nil, c.err
	}

	// 2. Window slices and their extreme.
	var offsets [][]int
	forEachIndex(window, func(k []int) { offsets = append(offsets, slices.Clone(k)) })
	slicesK := make([]backends.Op, len(offsets))
	var best backends.Op
	for i, k := range offsets {
		starts, limits := make([]int, rank), make([]int, rank)
		for a := range rank {
			starts[a] = k[a]
			limits[a] = k[a] + (outDims[a]-1)*strides[a] + 1
		}
		slicesK[i] = c.slice(x, starts, limits, strides)
		switch {
		case i == 0:
			best = slicesK[i]
		case isMax:
			best = c.max(best, slicesK[i])
		default:
			best = c.min(best, slicesK[i])
		}
	}

	// 3. One selected offset per window; its share of the source.
	zero := c.zeroOf(xShape.DType)
	shares := make([]backends.Op, len(offsets))
	var found backends.Op
	for i := range offsets {
		hit := c.equal(slicesK[i], best)
		selected := hit
		if i > 0 {
			selected = c.and(hit, c.not(found))
			found = c.or(found, hit)
		} else {
			found = hit
		}
		shares[i] = c.where(selected, source, zero)
	}

	// 4. Scatter the shares back to the padded operand's shape.
	var scattered backends.Op
	if slices.Equal(window, strides) {
		scattered = c.interleave(shares, outDims, window, pDims, zero)
	} else {
		for i, k := range offsets {
			cfg := make([]backends.PadAxis, rank)
			for a := range rank {
				placed := (outDims[a]-1)*strides[a] + 1
				cfg[a] = backends.PadAxis{Start: k[a], End: pDims[a] - k[a] - placed,
					Interior: strides[a] - 1}
			}
			part := c.pad(shares[i], zero, cfg)
			if i == 0 {
				scattered = part
			} else {
				scattered = c.add(scattered, part)
			}
		}
	}

	// 5. Drop the padding.
	for a := range padConfig {
		padConfig[a] = backends.PadAxis{Start: -paddings[a][0], End: -paddings[a][1]}
	}
	out := c.pad(scattered, zero, padConfig)
	return c.result(out, operand, source)
}

// interleave places non-overlapping window shares (each shaped outDims, one per window
// offset in row-major order) into a tensor shaped paddedDims: stack as
// [out..., window...], transpose to [out0, window0, out1, window1, ...], merge pairs and pad
// the end with zeros where the windows did not reach.
func (c *composer) interleave(shares []backends.Op, outDims, window, paddedDims []int,
	zero backends.Op) backends.Op {
	rank := len(outDims)
	parts := make([]backends.Op, len(shares))
	for i, s := range shares {
		parts[i] = c.reshape(s, append(slices.Clone(outDims), 1)...)
	}
	stacked := c.concat(rank, parts...) // [out..., K]
	full := append(slices.Clone(outDims), window...)
	stacked = c.reshape(stacked, full...)
	perm := make([]int, 0, 2*rank)
	merged := make([]int, rank)
	for a := range rank {
		perm = append(perm, a, rank+a)
		merged[a] = outDims[a] * window[a]
	}
	y := c.reshape(c.transpose(stacked, perm...), merged...)
	cfg := make([]backends.PadAxis, rank)
	need := false
	for a := range rank {
		cfg[a].End = paddedDims[a] - merged[a]
		need = need || cfg[a].End != 0
	}
	if need {
		y = c.pad(y, zero, cfg)
	}
	return y
}
