//go:build !amd64 || purego

package cpubackend

// hasAVX2FMA is false: the portable micro-kernels and loops are used.
const hasAVX2FMA = false
