package cpubackend

// offsets lists the flat offset of each index along one side of a matrix view, with a flag
// for the common case of consecutive offsets.
type offsets struct {
	at   []int
	unit bool // at[i] == at[0] + i for every i
}

// newOffsets wraps at, detecting consecutive offsets.
func newOffsets(at []int) offsets {
	unit := true
	for i := 1; i < len(at); i++ {
		if at[i] != at[0]+i {
			unit = false
			break
		}
	}
	return offsets{at: at, unit: unit}
}

// axesOffsets returns the flat offsets of every multi-index over the given axes (row-major
// in the order given) of a row-major tensor shaped dims; reversed axes count from the end.
func axesOffsets(dims, axes []int, reversed []bool) []int {
	strides := rowMajorStrides(dims)
	size := 1
	for _, a := range axes {
		size *= dims[a]
	}
	out := make([]int, size)
	idx := make([]int, len(axes))
	for i := range out {
		off := 0
		for j, a := range axes {
			v := idx[j]
			if reversed != nil && reversed[a] {
				v = dims[a] - 1 - v
			}
			off += v * strides[a]
		}
		out[i] = off
		for j := len(axes) - 1; j >= 0; j-- {
			idx[j]++
			if idx[j] < dims[axes[j]] {
				break
			}
			idx[j] = 0
		}
	}
	return out
}

// rowMajorStrides returns the strides, in elements, of a row-major tensor shaped dims.
func rowMajorStrides(dims []int) []int {
	strides := make([]int, len(dims))
	acc := 1
	for i := len(dims) - 1; i >= 0; i-- {
		strides[i] = acc
		acc *= dims[i]
	}
	return strides
}

// tableMatrix is a matrix view of a flat tensor: element (i, j) of batch entry b is
// data[batch[b] + rows[i] + cols[j]]. It packs as either operand of a matrix product.
type tableMatrix[T float] struct {
	data       []T
	batch      []int
	rows, cols offsets
}

func (m *tableMatrix[T]) batchOffset(bi int) int {
	if m.batch == nil {
		return 0
	}
	return m.batch[bi]
}

// packA implements aPacker.
func (m *tableMatrix[T]) packA(dst []T, bi, i0, rows, p0, depth int) {
	base := m.batchOffset(bi)
	rowAt, colAt := m.rows.at, m.cols.at
	for r := range (rows + gemmMR - 1) / gemmMR * gemmMR {
		row := dst[r*depth : r*depth+depth]
		switch {
		case r >= rows:
			clear(row)
		case m.cols.unit:
			off := base + rowAt[i0+r] + colAt[p0]
			copy(row, m.data[off:off+depth])
		default:
			off := base + rowAt[i0+r]
			cols := colAt[p0 : p0+depth]
			for p, c := range cols {
				row[p] = m.data[off+c]
			}
		}
	}
}

// packB implements bPacker.
func (m *tableMatrix[T]) packB(dst []T, bi, p0, depth, j0, cols int) {
	nr := gemmNR[T]()
	base := m.batchOffset(bi)
	rowAt, colAt := m.rows.at, m.cols.at
	for q := 0; q*nr < cols; q++ {
		panel := dst[q*nr*depth : (q+1)*nr*depth]
		c0 := j0 + q*nr
		nc := min(nr, j0+cols-c0)
		switch {
		case m.cols.unit:
			// Rows are contiguous: copy nc values per row.
			start := base + colAt[c0]
			for p := range depth {
				off := start + rowAt[p0+p]
				d := panel[p*nr : p*nr+nr]
				copy(d, m.data[off:off+nc])
				clear(d[nc:])
			}
			continue
		case m.rows.unit:
			for c := range nc {
				off := base + colAt[c0+c] + rowAt[p0]
				src := m.data[off : off+depth]
				for p, v := range src {
					panel[p*nr+c] = v
				}
			}
		default:
			for c := range nc {
				off := base + colAt[c0+c]
				for p := range depth {
					panel[p*nr+c] = m.data[off+rowAt[p0+p]]
				}
			}
		}
		if nc < nr {
			for p := range depth {
				clear(panel[p*nr+nc : p*nr+nr])
			}
		}
	}
}
