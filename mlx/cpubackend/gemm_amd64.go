//go:build amd64 && !purego

package cpubackend

import "golang.org/x/sys/cpu"

// gemmKernelF32AVX2 is the float32 micro-kernel in assembly (6 x 16 tile).
//
//go:noescape
func gemmKernelF32AVX2(k int, a, b, c *float32, lda, ldc int, acc bool)

// gemmKernelF64AVX2 is the float64 micro-kernel in assembly (6 x 8 tile).
//
//go:noescape
func gemmKernelF64AVX2(k int, a, b, c *float64, lda, ldc int, acc bool)

// hasAVX2FMA reports whether the CPU (and OS) run the assembly micro-kernels.
var hasAVX2FMA = cpu.X86.HasAVX2 && cpu.X86.HasFMA

func init() {
	if !hasAVX2FMA {
		return
	}
	microKernel32 = microKernelF32AVX2
	microKernel64 = microKernelF64AVX2
	microKernelName = "avx2+fma"
}

// microKernelF32AVX2 checks the bounds the assembly relies on, then calls it.
func microKernelF32AVX2(k int, a, b, c []float32, lda, ldc int, acc bool) {
	if k <= 0 {
		microKernelGo(k, a, b, c, lda, ldc, acc)
		return
	}
	_, _, _ = a[(gemmMR-1)*lda+k-1], b[k*16-1], c[(gemmMR-1)*ldc+15]
	gemmKernelF32AVX2(k, &a[0], &b[0], &c[0], lda, ldc, acc)
}

// microKernelF64AVX2 checks the bounds the assembly relies on, then calls it.
func microKernelF64AVX2(k int, a, b, c []float64, lda, ldc int, acc bool) {
	if k <= 0 {
		microKernelGo(k, a, b, c, lda, ldc, acc)
		return
	}
	_, _, _ = a[(gemmMR-1)*lda+k-1], b[k*8-1], c[(gemmMR-1)*ldc+7]
	gemmKernelF64AVX2(k, &a[0], &b[0], &c[0], lda, ldc, acc)
}
