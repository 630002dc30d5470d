//go:build !amd64 || purego

package cpubackend

import "unsafe"

// vecLoop is an assembly element-wise loop; there are none on this platform.
type vecLoop func(dst, x, y unsafe.Pointer, n int)

const (
	formVV = iota
	formVS
	formSV
)

var vecLoops [2][fusePow + 1][3]vecLoop
