//go:build amd64 && !purego

package cpubackend

import "unsafe"

// Assembly loops of the fused element-wise kernels (see fusevec_amd64.s).

//go:noescape
func vecAddVVF32(dst, x, y unsafe.Pointer, n int)

//go:noescape
func vecAddVSF32(dst, x, y unsafe.Pointer, n int)

//go:noescape
func vecSubVVF32(dst, x, y unsafe.Pointer, n int)

//go:noescape
func vecSubVSF32(dst, x, y unsafe.Pointer, n int)

//go:noescape
func vecSubSVF32(dst, x, y unsafe.Pointer, n int)

//go:noescape
func vecMulVVF32(dst, x, y unsafe.Pointer, n int)

//go:noescape
func vecMulVSF32(dst, x, y unsafe.Pointer, n int)

//go:noescape
func vecDivVVF32(dst, x, y unsafe.Pointer, n int)

//go:noescape
func vecDivVSF32(dst, x, y unsafe.Pointer, n int)

//go:noescape
func vecDivSVF32(dst, x, y unsafe.Pointer, n int)

//go:noescape
func vecMaxVVF32(dst, x, y unsafe.Pointer, n int)

//go:noescape
func vecMaxVSF32(dst, x, y unsafe.Pointer, n int)

//go:noescape
func vecMinVVF32(dst, x, y unsafe.Pointer, n int)

//go:noescape
func vecMinVSF32(dst, x, y unsafe.Pointer, n int)

//go:noescape
func vecSignF32(dst, x, y unsafe.Pointer, n int)

//go:noescape
func vecAddVVF64(dst, x, y unsafe.Pointer, n int)

//go:noescape
func vecAddVSF64(dst, x, y unsafe.Pointer, n int)

//go:noescape
func vecSubVVF64(dst, x, y unsafe.Pointer, n int)

//go:noescape
func vecSubVSF64(dst, x, y unsafe.Pointer, n int)

//go:noescape
func vecSubSVF64(dst, x, y unsafe.Pointer, n int)

//go:noescape
func vecMulVVF64(dst, x, y unsafe.Pointer, n int)

//go:noescape
func vecMulVSF64(dst, x, y unsafe.Pointer, n int)

//go:noescape
func vecDivVVF64(dst, x, y unsafe.Pointer, n int)

//go:noescape
func vecDivVSF64(dst, x, y unsafe.Pointer, n int)

//go:noescape
func vecDivSVF64(dst, x, y unsafe.Pointer, n int)

//go:noescape
func vecMaxVVF64(dst, x, y unsafe.Pointer, n int)

//go:noescape
func vecMaxVSF64(dst, x, y unsafe.Pointer, n int)

//go:noescape
func vecMinVVF64(dst, x, y unsafe.Pointer, n int)

//go:noescape
func vecMinVSF64(dst, x, y unsafe.Pointer, n int)

//go:noescape
func vecSignF64(dst, x, y unsafe.Pointer, n int)

// vecLoop is an assembly element-wise loop: dst = x op y over n values (a multiple of the
// vector width), x or y pointing at one value when it is a scalar.
type vecLoop func(dst, x, y unsafe.Pointer, n int)

// vecForms indexes the operand forms of the loops.
const (
	formVV = iota // vector op vector
	formVS        // vector op scalar
	formSV        // scalar op vector
)

// vecLoops holds the loops by element size (0: float32, 1: float64), kind and form.
var vecLoops [2][fusePow + 1][3]vecLoop

func init() {
	if !hasAVX2FMA {
		return
	}
	vecLoops[0][fuseAdd] = [3]vecLoop{vecAddVVF32, vecAddVSF32, nil}
	vecLoops[0][fuseSub] = [3]vecLoop{vecSubVVF32, vecSubVSF32, vecSubSVF32}
	vecLoops[0][fuseMul] = [3]vecLoop{vecMulVVF32, vecMulVSF32, nil}
	vecLoops[0][fuseDiv] = [3]vecLoop{vecDivVVF32, vecDivVSF32, vecDivSVF32}
	vecLoops[0][fuseMax] = [3]vecLoop{vecMaxVVF32, vecMaxVSF32, nil}
	vecLoops[0][fuseMin] = [3]vecLoop{vecMinVVF32, vecMinVSF32, nil}
	vecLoops[0][fuseSign] = [3]vecLoop{nil, vecSignF32, nil}
	vecLoops[1][fuseAdd] = [3]vecLoop{vecAddVVF64, vecAddVSF64, nil}
	vecLoops[1][fuseSub] = [3]vecLoop{vecSubVVF64, vecSubVSF64, vecSubSVF64}
	vecLoops[1][fuseMul] = [3]vecLoop{vecMulVVF64, vecMulVSF64, nil}
	vecLoops[1][fuseDiv] = [3]vecLoop{vecDivVVF64, vecDivVSF64, vecDivSVF64}
	vecLoops[1][fuseMax] = [3]vecLoop{vecMaxVVF64, vecMaxVSF64, nil}
	vecLoops[1][fuseMin] = [3]vecLoop{vecMinVVF64, vecMinVSF64, nil}
	vecLoops[1][fuseSign] = [3]vecLoop{nil, vecSignF64, nil}
}
