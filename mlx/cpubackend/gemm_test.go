package cpubackend

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// withGoKernels runs fn with the portable micro-kernels in place of the assembly ones.
func withGoKernels(fn func()) {
	k32, k64 := microKernel32, microKernel64
	microKernel32, microKernel64 = microKernelGo[float32], microKernelGo[float64]
	defer func() { microKernel32, microKernel64 = k32, k64 }()
	fn()
}

// kernelVariants lists the micro-kernels to test: the one chosen at start-up and, when that
// is assembly, the portable one too.
func kernelVariants() []struct {
	name string
	wrap func(func())
} {
	variants := []struct {
		name string
		wrap func(func())
	}{{MicroKernel(), func(f func()) { f() }}}
	if MicroKernel() != "go" {
		variants = append(variants, struct {
			name string
			wrap func(func())
		}{"go", withGoKernels})
	}
	return variants
}

// randomSlice returns n values uniform in [-1, 1).
func randomSlice[T float](seed uint64, n int) []T {
	rng := rand.New(rand.NewPCG(seed, 11))
	s := make([]T, n)
	for i := range s {
		s[i] = T(rng.Float64()*2 - 1)
	}
	return s
}

// layoutMatrix stores a rows x cols matrix either row-major or column-major (transposed), in
// batch entries separated by a gap, and returns its data and table view.
func layoutMatrix[T float](seed uint64, batch, rows, cols int, transposed bool) (
	[]T, *tableMatrix[T], func(b, i, j int) T) {
	gap := 3
	size := rows*cols + gap
	data := randomSlice[T](seed, batch*size)
	rowAt, colAt := make([]int, rows), make([]int, cols)
	for i := range rowAt {
		if transposed {
			rowAt[i] = i
		} else {
			rowAt[i] = i * cols
		}
	}
	for j := range colAt {
		if transposed {
			colAt[j] = j * rows
		} else {
			colAt[j] = j
		}
	}
	batchAt := make([]int, batch)
	for b := range batchAt {
		batchAt[b] = b * size
	}
	m := &tableMatrix[T]{data: data, batch: batchAt, rows: newOffsets(rowAt),
		cols: newOffsets(colAt)}
	at := func(b, i, j int) T { return data[batchAt[b]+rowAt[i]+colAt[j]] }
	return data, m, at
}

// checkGemm multiplies random matrices with the given layouts and compares with a float64
// reference.
func checkGemm[T float](t *testing.T, batch, m, n, k int, aT, bT bool, tol float64) {
	t.Helper()
	_, a, aAt := layoutMatrix[T](1, batch, m, k, aT)
	_, b, bAt := layoutMatrix[T](2, batch, k, n, bT)
	c := make([]T, batch*m*n)
	for i := range c {
		c[i] = T(math.NaN()) // must be overwritten
	}
	job := &gemmJob[T]{batch: batch, m: m, n: n, k: k, a: a, b: b, c: c}
	job.run()
	for bi := range batch {
		for i := range m {
			for j := range n {
				want := 0.0
				for p := range k {
					want += float64(aAt(bi, i, p)) * float64(bAt(bi, p, j))
				}
				got := float64(c[(bi*m+i)*n+j])
				if math.Abs(got-want) > tol*math.Max(1, math.Abs(want)) || math.IsNaN(got) {
					t.Fatalf("batch %d, m=%d n=%d k=%d aT=%v bT=%v: C[%d,%d] = %g, want %g",
						batch, m, n, k, aT, bT, i, j, got, want)
				}
			}
		}
	}
}

func TestGemmMatchesNaiveProduct(t *testing.T) {
	sizes := [][3]int{
		{1, 1, 1}, {3, 5, 7}, {6, 16, 1}, {17, 17, 17}, {7, 33, 65}, {65, 3, 300},
		{97, 18, 257}, {13, 1030, 5}, {200, 40, 600}, {5, 9, 1100},
	}
	for _, v := range kernelVariants() {
		for _, s := range sizes {
			for _, layout := range [][2]bool{{false, false}, {true, false}, {false, true},
				{true, true}} {
				name := fmt.Sprintf("%s/%dx%dx%d/aT=%v/bT=%v", v.name, s[0], s[1], s[2],
					layout[0], layout[1])
				t.Run(name, func(t *testing.T) {
					v.wrap(func() {
						checkGemm[float32](t, 1, s[0], s[1], s[2], layout[0], layout[1], 1e-4)
						checkGemm[float64](t, 2, s[0], s[1], s[2], layout[0], layout[1], 1e-12)
					})
				})
			}
		}
	}
}

// TestGemmSplitsLargeProducts covers every kind of split: by batch, rows, columns and depth
// (whose partial sums are added at the end).
func TestGemmSplitsLargeProducts(t *testing.T) {
	cases := []struct{ batch, m, n, k int }{
		{3, 130, 40, 70},  // batch and rows
		{1, 400, 50, 120}, // rows
		{1, 12, 300, 900}, // columns or depth
		{1, 30, 20, 5000}, // depth
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%dx%dx%dx%d", c.batch, c.m, c.n, c.k), func(t *testing.T) {
			checkGemm[float32](t, c.batch, c.m, c.n, c.k, false, true, 1e-3)
			checkGemm[float64](t, c.batch, c.m, c.n, c.k, true, false, 1e-11)
		})
	}
}

func TestGemmSplitPrefersTheCheapestCut(t *testing.T) {
	cases := []struct {
		m, n, k int
		want    string
	}{
		{65536, 16, 144, "rows"},  // a convolution: many output positions
		{144, 64, 65536, "depth"}, // a kernel gradient: long contraction
	}
	for _, c := range cases {
		job := &gemmJob[float32]{batch: 1, m: c.m, n: c.n, k: c.k}
		sb, sm, sn, sk := job.split(4)
		got := "none"
		switch {
		case sm > 1 && sn == 1 && sk == 1:
			got = "rows"
		case sk > 1 && sm == 1 && sn == 1:
			got = "depth"
		}
		if got != c.want || sb != 1 {
			t.Errorf("split(%dx%dx%d) = batch %d, rows %d, cols %d, depth %d; want a cut by %s",
				c.m, c.n, c.k, sb, sm, sn, sk, c.want)
		}
	}
}

func TestChunkCoversTheRangeAligned(t *testing.T) {
	for _, size := range []int{1, 7, 64, 100, 1031} {
		for _, n := range []int{1, 2, 3, 8} {
			next := 0
			for i := range n {
				from, to := chunk(size, n, i, 6)
				if from != next || to < from || (to != size && to%6 != 0) {
					t.Fatalf("chunk(%d, %d, %d, 6) = [%d, %d), previous ended at %d", size, n, i,
						from, to, next)
				}
				next = to
			}
			if next != size {
				t.Fatalf("chunks of %d in %d parts end at %d", size, n, next)
			}
		}
	}
}

func BenchmarkGemm(b *testing.B) {
	for _, s := range [][3]int{{65536, 16, 144}, {65536, 32, 288}, {144, 32, 65536},
		{512, 512, 512}} {
		for _, v := range kernelVariants() {
			b.Run(fmt.Sprintf("%s/%dx%dx%d", v.name, s[0], s[1], s[2]), func(b *testing.B) {
				_, a, _ := layoutMatrix[float32](1, 1, s[0], s[2], false)
				_, bm, _ := layoutMatrix[float32](2, 1, s[2], s[1], false)
				c := make([]float32, s[0]*s[1])
				job := &gemmJob[float32]{batch: 1, m: s[0], n: s[1], k: s[2], a: a, b: bm, c: c}
				v.wrap(func() {
					for b.Loop() {
						job.run()
					}
				})
				flops := 2 * float64(s[0]) * float64(s[1]) * float64(s[2])
				b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}

// TestMicroKernelsReadRowsApart checks the micro-kernels with rows of A further apart than
// their length (as the direct convolution hands them), accumulating and storing.
func TestMicroKernelsReadRowsApart(t *testing.T) {
	for _, v := range kernelVariants() {
		v.wrap(func() {
			const k, lda, ldc = 19, 29, 21
			a := randomSlice[float32](31, (gemmMR-1)*lda+k)
			b := randomSlice[float32](32, k*16)
			c := randomSlice[float32](33, (gemmMR-1)*ldc+16)
			start := append([]float32(nil), c...)
			kernelFor[float32]()(k, a, b, c, lda, ldc, true)
			for i := range gemmMR {
				for j := range 16 {
					want := float64(start[i*ldc+j])
					for p := range k {
						want += float64(a[i*lda+p]) * float64(b[p*16+j])
					}
					if got := float64(c[i*ldc+j]); math.Abs(got-want) > 1e-4 {
						t.Fatalf("%s: C[%d,%d] = %g, want %g", v.name, i, j, got, want)
					}
				}
				for j := 16; j < ldc && i < gemmMR-1; j++ {
					if c[i*ldc+j] != start[i*ldc+j] {
						t.Fatalf("%s: C[%d,%d] outside the tile was written", v.name, i, j)
					}
				}
			}
		})
	}
}
