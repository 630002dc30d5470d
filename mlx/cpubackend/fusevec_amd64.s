//go:build amd64 && !purego

#include "textflag.h"

// Element-wise loops of the fused kernels, 8 float32 or 4 float64 values per instruction.
// n counts the values and must be a multiple of 8 (float32) or 4 (float64); the caller
// handles the rest. In a lhs-rhs operation (vv: both vectors, vs: rhs scalar at *y, sv: lhs
// scalar at *x) the lhs is the second source of VMAXP/VMINP, so a NaN in it propagates.

// func vecAddVVF32(dst, x, y unsafe.Pointer, n int)
TEXT ·vecAddVVF32(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ y+16(FP), DX
	MOVQ n+24(FP), CX
	SHRQ $3, CX
	TESTQ CX, CX
	JE vecAddVVF32_done
vecAddVVF32_loop:
	VMOVUPS (SI), Y0
	VMOVUPS (DX), Y1
	VADDPS Y1, Y0, Y2
	VMOVUPS Y2, (DI)
	ADDQ $32, DI
	ADDQ $32, SI
	ADDQ $32, DX
	DECQ CX
	JNE vecAddVVF32_loop
vecAddVVF32_done:
	VZEROUPPER
	RET

// func vecAddVSF32(dst, x, y unsafe.Pointer, n int)
TEXT ·vecAddVSF32(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ y+16(FP), DX
	MOVQ n+24(FP), CX
	SHRQ $3, CX
	VBROADCASTSS (DX), Y1
	TESTQ CX, CX
	JE vecAddVSF32_done
vecAddVSF32_loop:
	VMOVUPS (SI), Y0
	VADDPS Y1, Y0, Y2
	VMOVUPS Y2, (DI)
	ADDQ $32, DI
	ADDQ $32, SI
	DECQ CX
	JNE vecAddVSF32_loop
vecAddVSF32_done:
	VZEROUPPER
	RET

// func vecSubVVF32(dst, x, y unsafe.Pointer, n int)
TEXT ·vecSubVVF32(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ y+16(FP), DX
	MOVQ n+24(FP), CX
	SHRQ $3, CX
	TESTQ CX, CX
	JE vecSubVVF32_done
vecSubVVF32_loop:
	VMOVUPS (SI), Y0
	VMOVUPS (DX), Y1
	VSUBPS Y1, Y0, Y2
	VMOVUPS Y2, (DI)
	ADDQ $32, DI
	ADDQ $32, SI
	ADDQ $32, DX
	DECQ CX
	JNE vecSubVVF32_loop
vecSubVVF32_done:
	VZEROUPPER
	RET

// func vecSubVSF32(dst, x, y unsafe.Pointer, n int)
TEXT ·vecSubVSF32(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ y+16(FP), DX
	MOVQ n+24(FP), CX
	SHRQ $3, CX
	VBROADCASTSS (DX), Y1
	TESTQ CX, CX
	JE vecSubVSF32_done
vecSubVSF32_loop:
	VMOVUPS (SI), Y0
	VSUBPS Y1, Y0, Y2
	VMOVUPS Y2, (DI)
	ADDQ $32, DI
	ADDQ $32, SI
	DECQ CX
	JNE vecSubVSF32_loop
vecSubVSF32_done:
	VZEROUPPER
	RET

// func vecSubSVF32(dst, x, y unsafe.Pointer, n int)
TEXT ·vecSubSVF32(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ y+16(FP), DX
	MOVQ n+24(FP), CX
	SHRQ $3, CX
	VBROADCASTSS (SI), Y0
	TESTQ CX, CX
	JE vecSubSVF32_done
vecSubSVF32_loop:
	VMOVUPS (DX), Y1
	VSUBPS Y1, Y0, Y2
	VMOVUPS Y2, (DI)
	ADDQ $32, DI
	ADDQ $32, DX
	DECQ CX
	JNE vecSubSVF32_loop
vecSubSVF32_done:
	VZEROUPPER
	RET

// func vecMulVVF32(dst, x, y unsafe.Pointer, n int)
TEXT ·vecMulVVF32(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ y+16(FP), DX
	MOVQ n+24(FP), CX
	SHRQ $3, CX
	TESTQ CX, CX
	JE vecMulVVF32_done
vecMulVVF32_loop:
	VMOVUPS (SI), Y0
	VMOVUPS (DX), Y1
	VMULPS Y1, Y0, Y2
	VMOVUPS Y2, (DI)
	ADDQ $32, DI
	ADDQ $32, SI
	ADDQ $32, DX
	DECQ CX
	JNE vecMulVVF32_loop
vecMulVVF32_done:
	VZEROUPPER
	RET

// func vecMulVSF32(dst, x, y unsafe.Pointer, n int)
TEXT ·vecMulVSF32(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ y+16(FP), DX
	MOVQ n+24(FP), CX
	SHRQ $3, CX
	VBROADCASTSS (DX), Y1
	TESTQ CX, CX
	JE vecMulVSF32_done
vecMulVSF32_loop:
	VMOVUPS (SI), Y0
	VMULPS Y1, Y0, Y2
	VMOVUPS Y2, (DI)
	ADDQ $32, DI
	ADDQ $32, SI
	DECQ CX
	JNE vecMulVSF32_loop
vecMulVSF32_done:
	VZEROUPPER
	RET

// func vecDivVVF32(dst, x, y unsafe.Pointer, n int)
TEXT ·vecDivVVF32(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ y+16(FP), DX
	MOVQ n+24(FP), CX
	SHRQ $3, CX
	TESTQ CX, CX
	JE vecDivVVF32_done
vecDivVVF32_loop:
	VMOVUPS (SI), Y0
	VMOVUPS (DX), Y1
	VDIVPS Y1, Y0, Y2
	VMOVUPS Y2, (DI)
	ADDQ $32, DI
	ADDQ $32, SI
	ADDQ $32, DX
	DECQ CX
	JNE vecDivVVF32_loop
vecDivVVF32_done:
	VZEROUPPER
	RET

// func vecDivVSF32(dst, x, y unsafe.Pointer, n int)
TEXT ·vecDivVSF32(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ y+16(FP), DX
	MOVQ n+24(FP), CX
	SHRQ $3, CX
	VBROADCASTSS (DX), Y1
	TESTQ CX, CX
	JE vecDivVSF32_done
vecDivVSF32_loop:
	VMOVUPS (SI), Y0
	VDIVPS Y1, Y0, Y2
	VMOVUPS Y2, (DI)
	ADDQ $32, DI
	ADDQ $32, SI
	DECQ CX
	JNE vecDivVSF32_loop
vecDivVSF32_done:
	VZEROUPPER
	RET

// func vecDivSVF32(dst, x, y unsafe.Pointer, n int)
TEXT ·vecDivSVF32(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ y+16(FP), DX
	MOVQ n+24(FP), CX
	SHRQ $3, CX
	VBROADCASTSS (SI), Y0
	TESTQ CX, CX
	JE vecDivSVF32_done
vecDivSVF32_loop:
	VMOVUPS (DX), Y1
	VDIVPS Y1, Y0, Y2
	VMOVUPS Y2, (DI)
	ADDQ $32, DI
	ADDQ $32, DX
	DECQ CX
	JNE vecDivSVF32_loop
vecDivSVF32_done:
	VZEROUPPER
	RET

// func vecMaxVVF32(dst, x, y unsafe.Pointer, n int)
TEXT ·vecMaxVVF32(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ y+16(FP), DX
	MOVQ n+24(FP), CX
	SHRQ $3, CX
	TESTQ CX, CX
	JE vecMaxVVF32_done
vecMaxVVF32_loop:
	VMOVUPS (SI), Y0
	VMOVUPS (DX), Y1
	VMAXPS Y0, Y1, Y2
	VMOVUPS Y2, (DI)
	ADDQ $32, DI
	ADDQ $32, SI
	ADDQ $32, DX
	DECQ CX
	JNE vecMaxVVF32_loop
vecMaxVVF32_done:
	VZEROUPPER
	RET

// func vecMaxVSF32(dst, x, y unsafe.Pointer, n int)
TEXT ·vecMaxVSF32(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ y+16(FP), DX
	MOVQ n+24(FP), CX
	SHRQ $3, CX
	VBROADCASTSS (DX), Y1
	TESTQ CX, CX
	JE vecMaxVSF32_done
vecMaxVSF32_loop:
	VMOVUPS (SI), Y0
	VMAXPS Y0, Y1, Y2
	VMOVUPS Y2, (DI)
	ADDQ $32, DI
	ADDQ $32, SI
	DECQ CX
	JNE vecMaxVSF32_loop
vecMaxVSF32_done:
	VZEROUPPER
	RET

// func vecMinVVF32(dst, x, y unsafe.Pointer, n int)
TEXT ·vecMinVVF32(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ y+16(FP), DX
	MOVQ n+24(FP), CX
	SHRQ $3, CX
	TESTQ CX, CX
	JE vecMinVVF32_done
vecMinVVF32_loop:
	VMOVUPS (SI), Y0
	VMOVUPS (DX), Y1
	VMINPS Y0, Y1, Y2
	VMOVUPS Y2, (DI)
	ADDQ $32, DI
	ADDQ $32, SI
	ADDQ $32, DX
	DECQ CX
	JNE vecMinVVF32_loop
vecMinVVF32_done:
	VZEROUPPER
	RET

// func vecMinVSF32(dst, x, y unsafe.Pointer, n int)
TEXT ·vecMinVSF32(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ y+16(FP), DX
	MOVQ n+24(FP), CX
	SHRQ $3, CX
	VBROADCASTSS (DX), Y1
	TESTQ CX, CX
	JE vecMinVSF32_done
vecMinVSF32_loop:
	VMOVUPS (SI), Y0
	VMINPS Y0, Y1, Y2
	VMOVUPS Y2, (DI)
	ADDQ $32, DI
	ADDQ $32, SI
	DECQ CX
	JNE vecMinVSF32_loop
vecMinVSF32_done:
	VZEROUPPER
	RET

// func vecSignF32(dst, x, y unsafe.Pointer, n int) (y points at the value 1)
TEXT ·vecSignF32(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ y+16(FP), DX
	MOVQ n+24(FP), CX
	SHRQ $3, CX
	VBROADCASTSS (DX), Y3
	VXORPS Y4, Y4, Y4
	TESTQ CX, CX
	JE vecSignF32_done
vecSignF32_loop:
	VMOVUPS (SI), Y0
	VCMPPS $1, Y0, Y4, Y1
	VCMPPS $1, Y4, Y0, Y2
	VANDPS Y3, Y1, Y1
	VANDPS Y3, Y2, Y2
	VSUBPS Y2, Y1, Y1
	VMOVUPS Y1, (DI)
	ADDQ $32, DI
	ADDQ $32, SI
	DECQ CX
	JNE vecSignF32_loop
vecSignF32_done:
	VZEROUPPER
	RET

// func vecAddVVF64(dst, x, y unsafe.Pointer, n int)
TEXT ·vecAddVVF64(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ y+16(FP), DX
	MOVQ n+24(FP), CX
	SHRQ $2, CX
	TESTQ CX, CX
	JE vecAddVVF64_done
vecAddVVF64_loop:
	VMOVUPD (SI), Y0
	VMOVUPD (DX), Y1
	VADDPD Y1, Y0, Y2
	VMOVUPD Y2, (DI)
	ADDQ $32, DI
	ADDQ $32, SI
	ADDQ $32, DX
	DECQ CX
	JNE vecAddVVF64_loop
vecAddVVF64_done:
	VZEROUPPER
	RET

// func vecAddVSF64(dst, x, y unsafe.Pointer, n int)
TEXT ·vecAddVSF64(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ y+16(FP), DX
	MOVQ n+24(FP), CX
	SHRQ $2, CX
	VBROADCASTSD (DX), Y1
	TESTQ CX, CX
	JE vecAddVSF64_done
vecAddVSF64_loop:
	VMOVUPD (SI), Y0
	VADDPD Y1, Y0, Y2
	VMOVUPD Y2, (DI)
	ADDQ $32, DI
	ADDQ $32, SI
	DECQ CX
	JNE vecAddVSF64_loop
vecAddVSF64_done:
	VZEROUPPER
	RET

// func vecSubVVF64(dst, x, y unsafe.Pointer, n int)
TEXT ·vecSubVVF64(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ y+16(FP), DX
	MOVQ n+24(FP), CX
	SHRQ $2, CX
	TESTQ CX, CX
	JE vecSubVVF64_done
vecSubVVF64_loop:
	VMOVUPD (SI), Y0
	VMOVUPD (DX), Y1
	VSUBPD Y1, Y0, Y2
	VMOVUPD Y2, (DI)
	ADDQ $32, DI
	ADDQ $32, SI
	ADDQ $32, DX
	DECQ CX
	JNE vecSubVVF64_loop
vecSubVVF64_done:
	VZEROUPPER
	RET

// func vecSubVSF64(dst, x, y unsafe.Pointer, n int)
TEXT ·vecSubVSF64(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ y+16(FP), DX
	MOVQ n+24(FP), CX
	SHRQ $2, CX
	VBROADCASTSD (DX), Y1
	TESTQ CX, CX
	JE vecSubVSF64_done
vecSubVSF64_loop:
	VMOVUPD (SI), Y0
	VSUBPD Y1, Y0, Y2
	VMOVUPD Y2, (DI)
	ADDQ $32, DI
	ADDQ $32, SI
	DECQ CX
	JNE vecSubVSF64_loop
vecSubVSF64_done:
	VZEROUPPER
	RET

// func vecSubSVF64(dst, x, y unsafe.Pointer, n int)
TEXT ·vecSubSVF64(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ y+16(FP), DX
	MOVQ n+24(FP), CX
	SHRQ $2, CX
	VBROADCASTSD (SI), Y0
	TESTQ CX, CX
	JE vecSubSVF64_done
vecSubSVF64_loop:
	VMOVUPD (DX), Y1
	VSUBPD Y1, Y0, Y2
	VMOVUPD Y2, (DI)
	ADDQ $32, DI
	ADDQ $32, DX
	DECQ CX
	JNE vecSubSVF64_loop
vecSubSVF64_done:
	VZEROUPPER
	RET

// func vecMulVVF64(dst, x, y unsafe.Pointer, n int)
TEXT ·vecMulVVF64(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ y+16(FP), DX
	MOVQ n+24(FP), CX
	SHRQ $2, CX
	TESTQ CX, CX
	JE vecMulVVF64_done
vecMulVVF64_loop:
	VMOVUPD (SI), Y0
	VMOVUPD (DX), Y1
	VMULPD Y1, Y0, Y2
	VMOVUPD Y2, (DI)
	ADDQ $32, DI
	ADDQ $32, SI
	ADDQ $32, DX
	DECQ CX
	JNE vecMulVVF64_loop
vecMulVVF64_done:
	VZEROUPPER
	RET

// func vecMulVSF64(dst, x, y unsafe.Pointer, n int)
TEXT ·vecMulVSF64(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ y+16(FP), DX
	MOVQ n+24(FP), CX
	SHRQ $2, CX
	VBROADCASTSD (DX), Y1
	TESTQ CX, CX
	JE vecMulVSF64_done
vecMulVSF64_loop:
	VMOVUPD (SI), Y0
	VMULPD Y1, Y0, Y2
	VMOVUPD Y2, (DI)
	ADDQ $32, DI
	ADDQ $32, SI
	DECQ CX
	JNE vecMulVSF64_loop
vecMulVSF64_done:
	VZEROUPPER
	RET

// func vecDivVVF64(dst, x, y unsafe.Pointer, n int)
TEXT ·vecDivVVF64(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ y+16(FP), DX
	MOVQ n+24(FP), CX
	SHRQ $2, CX
	TESTQ CX, CX
	JE vecDivVVF64_done
vecDivVVF64_loop:
	VMOVUPD (SI), Y0
	VMOVUPD (DX), Y1
	VDIVPD Y1, Y0, Y2
	VMOVUPD Y2, (DI)
	ADDQ $32, DI
	ADDQ $32, SI
	ADDQ $32, DX
	DECQ CX
	JNE vecDivVVF64_loop
vecDivVVF64_done:
	VZEROUPPER
	RET

// func vecDivVSF64(dst, x, y unsafe.Pointer, n int)
TEXT ·vecDivVSF64(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ y+16(FP), DX
	MOVQ n+24(FP), CX
	SHRQ $2, CX
	VBROADCASTSD (DX), Y1
	TESTQ CX, CX
	JE vecDivVSF64_done
vecDivVSF64_loop:
	VMOVUPD (SI), Y0
	VDIVPD Y1, Y0, Y2
	VMOVUPD Y2, (DI)
	ADDQ $32, DI
	ADDQ $32, SI
	DECQ CX
	JNE vecDivVSF64_loop
vecDivVSF64_done:
	VZEROUPPER
	RET

// func vecDivSVF64(dst, x, y unsafe.Pointer, n int)
TEXT ·vecDivSVF64(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ y+16(FP), DX
	MOVQ n+24(FP), CX
	SHRQ $2, CX
	VBROADCASTSD (SI), Y0
	TESTQ CX, CX
	JE vecDivSVF64_done
vecDivSVF64_loop:
	VMOVUPD (DX), Y1
	VDIVPD Y1, Y0, Y2
	VMOVUPD Y2, (DI)
	ADDQ $32, DI
	ADDQ $32, DX
	DECQ CX
	JNE vecDivSVF64_loop
vecDivSVF64_done:
	VZEROUPPER
	RET

// func vecMaxVVF64(dst, x, y unsafe.Pointer, n int)
TEXT ·vecMaxVVF64(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ y+16(FP), DX
	MOVQ n+24(FP), CX
	SHRQ $2, CX
	TESTQ CX, CX
	JE vecMaxVVF64_done
vecMaxVVF64_loop:
	VMOVUPD (SI), Y0
	VMOVUPD (DX), Y1
	VMAXPD Y0, Y1, Y2
	VMOVUPD Y2, (DI)
	ADDQ $32, DI
	ADDQ $32, SI
	ADDQ $32, DX
	DECQ CX
	JNE vecMaxVVF64_loop
vecMaxVVF64_done:
	VZEROUPPER
	RET

// func vecMaxVSF64(dst, x, y unsafe.Pointer, n int)
TEXT ·vecMaxVSF64(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ y+16(FP), DX
	MOVQ n+24(FP), CX
	SHRQ $2, CX
	VBROADCASTSD (DX), Y1
	TESTQ CX, CX
	JE vecMaxVSF64_done
vecMaxVSF64_loop:
	VMOVUPD (SI), Y0
	VMAXPD Y0, Y1, Y2
	VMOVUPD Y2, (DI)
	ADDQ $32, DI
	ADDQ $32, SI
	DECQ CX
	JNE vecMaxVSF64_loop
vecMaxVSF64_done:
	VZEROUPPER
	RET

// func vecMinVVF64(dst, x, y unsafe.Pointer, n int)
TEXT ·vecMinVVF64(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ y+16(FP), DX
	MOVQ n+24(FP), CX
	SHRQ $2, CX
	TESTQ CX, CX
	JE vecMinVVF64_done
vecMinVVF64_loop:
	VMOVUPD (SI), Y0
	VMOVUPD (DX), Y1
	VMINPD Y0, Y1, Y2
	VMOVUPD Y2, (DI)
	ADDQ $32, DI
	ADDQ $32, SI
	ADDQ $32, DX
	DECQ CX
	JNE vecMinVVF64_loop
vecMinVVF64_done:
	VZEROUPPER
	RET

// func vecMinVSF64(dst, x, y unsafe.Pointer, n int)
TEXT ·vecMinVSF64(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ y+16(FP), DX
	MOVQ n+24(FP), CX
	SHRQ $2, CX
	VBROADCASTSD (DX), Y1
	TESTQ CX, CX
	JE vecMinVSF64_done
vecMinVSF64_loop:
	VMOVUPD (SI), Y0
	VMINPD Y0, Y1, Y2
	VMOVUPD Y2, (DI)
	ADDQ $32, DI
	ADDQ $32, SI
	DECQ CX
	JNE vecMinVSF64_loop
vecMinVSF64_done:
	VZEROUPPER
	RET

// func vecSignF64(dst, x, y unsafe.Pointer, n int) (y points at the value 1)
TEXT ·vecSignF64(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ y+16(FP), DX
	MOVQ n+24(FP), CX
	SHRQ $2, CX
	VBROADCASTSD (DX), Y3
	VXORPD Y4, Y4, Y4
	TESTQ CX, CX
	JE vecSignF64_done
vecSignF64_loop:
	VMOVUPD (SI), Y0
	VCMPPD $1, Y0, Y4, Y1
	VCMPPD $1, Y4, Y0, Y2
	VANDPD Y3, Y1, Y1
	VANDPD Y3, Y2, Y2
	VSUBPD Y2, Y1, Y1
	VMOVUPD Y1, (DI)
	ADDQ $32, DI
	ADDQ $32, SI
	DECQ CX
	JNE vecSignF64_loop
vecSignF64_done:
	VZEROUPPER
	RET
