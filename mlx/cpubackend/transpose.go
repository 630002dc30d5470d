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
