package cpubackend

import (
	"math/bits"
	"sync"
	"unsafe"
)

// Scratch buffers of the kernels (transposed operands, partial sums) come from pools by size
// class (powers of two), one set per element type, so that steady-state training allocates
// little.
const scratchClasses = 48

var scratchPools [2][scratchClasses]sync.Pool

// scratchClass returns the pool class of n elements: the smallest c with 1<<c >= n.
func scratchClass(n int) int {
	if n <= 1 {
		return 0
	}
	return bits.Len(uint(n - 1))
}

// getScratch returns a slice of n elements of T, with unspecified contents.
func getScratch[T any](n int) []T {
	class := scratchClass(n)
	idx := scratchIndex[T]()
	if idx >= 0 {
		if p, ok := scratchPools[idx][class].Get().(*[]T); ok {
			return (*p)[:n]
		}
	}
	return make([]T, n, 1<<class)
}

// putScratch gives a slice from getScratch back to its pool.
func putScratch[T any](s []T) {
	idx := scratchIndex[T]()
	if idx < 0 || cap(s) == 0 || cap(s)&(cap(s)-1) != 0 {
		return
	}
	s = s[:cap(s)]
	scratchPools[idx][scratchClass(cap(s))].Put(&s)
}

// scratchIndex returns the pool set of T: 0 for 4-byte, 1 for 8-byte elements, -1 for
// others (not pooled).
func scratchIndex[T any]() int {
	var zero T
	switch unsafe.Sizeof(zero) {
	case 4:
		return 0
	case 8:
		return 1
	}
	return -1
}
