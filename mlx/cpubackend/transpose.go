package cpubackend

import "slices"

// transposeInto writes src, a row-major tensor shaped dims, to dst with its axes permuted:
// axis i of dst is axis perm[i] of src. Runs along a contiguous source axis are copied at
// once; otherwise the innermost loop gathers with the source stride. Large tensors are
// split over the cores along the outermost destination axis.
func transposeInto[T any](dst, src []T, dims, perm []int) {
	rank := len(dims)
	if rank == 0 || len(src) == 0 {
		copy(dst, src)
		return
	}
	srcStrides := rowMajorStrides(dims)

	// Destination dims and the source stride of each destination axis, with neighbouring
	// axes that stay neighbours (and in order) merged.
	var outDims, strides []int
	for i, a := range perm {
		if dims[a] == 1 {
			continue
		}
		if i > 0 && len(outDims) > 0 && perm[i-1] == a-1 && dims[a-1] != 1 {
			outDims[len(outDims)-1] *= dims[a]
			strides[len(strides)-1] = srcStrides[a]
			continue
		}
		outDims = append(outDims, dims[a])
		strides = append(strides, srcStrides[a])
	}
	if len(outDims) <= 1 {
		copy(dst, src)
		return
	}
	if last := len(outDims) - 1; strides[last] != 1 {
		// The source's contiguous axis is another destination axis: copy in square tiles so
		// that both sides are read and written a cache line at a time.
		for j, st := range strides[:last] {
			if st == 1 && outDims[j] >= 4 && outDims[last] >= 4 {
				transposeTiled(dst, src, outDims, strides, j)
				return
			}
		}
	}
	rows := len(src) / outDims[len(outDims)-1]
	minRows := max(1, (1<<15)/outDims[len(outDims)-1])
	parallelRanges(rows, minRows, func(from, to int) {
		stridedRows(dst, src, outDims, strides, 0, from, to)
	})
}

// stridedRows copies destination rows [from, to) (a row is the innermost destination axis)
// of a strided view of src: the destination is row-major shaped outDims, and its element at
// index idx is src[base + sum(idx[i]*strides[i])] (strides may be negative).
func stridedRows[T any](dst, src []T, outDims, strides []int, base, from, to int) {
	rank := len(outDims)
	inner, innerStride := outDims[rank-1], strides[rank-1]
	outer := outDims[:rank-1]
	idx := make([]int, rank-1)
	rem := from
	for i := rank - 2; i >= 0; i-- {
		idx[i] = rem % outer[i]
		rem /= outer[i]
	}
	srcOff := base
	for i, v := range idx {
		srcOff += v * strides[i]
	}
	for row := from; row < to; row++ {
		d := dst[row*inner : row*inner+inner]
		if innerStride == 1 {
			copy(d, src[srcOff:srcOff+inner])
		} else if innerStride == -1 {
			s := src[srcOff-inner+1 : srcOff+1]
			for j := range d {
				d[j] = s[inner-1-j]
			}
		} else {
			off := srcOff
			for j := range d {
				d[j] = src[off]
				off += innerStride
			}
		}
		// Next row: odometer over the outer axes.
		for i := rank - 2; i >= 0; i-- {
			idx[i]++
			srcOff += strides[i]
			if idx[i] < outer[i] {
				break
			}
			srcOff -= outer[i] * strides[i]
			idx[i] = 0
		}
	}
}

// permutedDims returns dims permuted by perm: result[i] = dims[perm[i]].
func permutedDims(dims, perm []int) []int {
	out := make([]int, len(perm))
	for i, a := range perm {
		out[i] = dims[a]
	}
	return out
}

// isIdentityPerm reports whether perm leaves every axis in place.
func isIdentityPerm(perm []int) bool {
	return slices.Equal(perm, iotaInts(0, len(perm)))
}

// transposeTileSize is the side of the square tiles of transposeTiled.
const transposeTileSize = 16

// transposeTiled is transposeInto when destination axis j is the source's contiguous axis
// (stride 1) and the last destination axis is not: for each index of the other axes, the
// plane of axes j and last is copied tile by tile. The planes (or, when there is one, the
// tiles along axis j) are split over the cores.
func transposeTiled[T any](dst, src []T, outDims, strides []int, j int) {
	rank := len(outDims)
	last := rank - 1
	nJ, nL := outDims[j], outDims[last]
	dstStrides := rowMajorStrides(outDims)
	dJ, sL := dstStrides[j], strides[last]

	// The other axes, walked as one flat index.
	var others []int
	for a := range last {
		if a != j {
			others = append(others, a)
		}
	}
	planes := 1
	for _, a := range others {
		planes *= outDims[a]
	}
	plane := func(p int) (dOff, sOff int) {
		for i := len(others) - 1; i >= 0; i-- {
			a := others[i]
			v := p % outDims[a]
			p /= outDims[a]
			dOff += v * dstStrides[a]
			sOff += v * strides[a]
		}
		return
	}
	tiles := (nJ + transposeTileSize - 1) / transposeTileSize
	copyTiles := func(dOff, sOff, t0, t1 int) {
		for jt := t0 * transposeTileSize; jt < min(t1*transposeTileSize, nJ); jt +=
			transposeTileSize {
			jEnd := min(jt+transposeTileSize, nJ)
			for lt := 0; lt < nL; lt += transposeTileSize {
				lEnd := min(lt+transposeTileSize, nL)
				for jj := jt; jj < jEnd; jj++ {
					d := dst[dOff+jj*dJ+lt : dOff+jj*dJ+lEnd]
					so := sOff + jj + lt*sL
					for l := range d {
						d[l] = src[so]
						so += sL
					}
				}
			}
		}
	}
	minPlanes := max(1, (1<<15)/max(nJ*nL, 1))
	if planes >= 2*maxWorkers() || tiles < 2 {
		parallelRanges(planes, minPlanes, func(from, to int) {
			for p := from; p < to; p++ {
				dOff, sOff := plane(p)
				copyTiles(dOff, sOff, 0, tiles)
			}
		})
		return
	}
	for p := range planes {
		dOff, sOff := plane(p)
		parallelRanges(tiles, max(1, (1<<15)/(transposeTileSize*nL)), func(from, to int) {
			copyTiles(dOff, sOff, from, to)
		})
	}
}
