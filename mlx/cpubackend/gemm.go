package cpubackend

import (
	"runtime"
	"sync"
	"sync/atomic"
	"unsafe"
)

// float is the element types the native kernels handle.
type float interface{ float32 | float64 }

// Blocking of the matrix product C = A·B. A is packed in blocks of gemmMC rows by gemmKC
// columns (panels of gemmMR rows), B in blocks of gemmKC rows by up to gemmNC columns (panels
// of nr columns: 16 for float32, 8 for float64); a micro-kernel multiplies one A panel by one
// B panel into a gemmMR x nr tile of C held in registers.
const (
	gemmMR = 6
	gemmKC = 256
	gemmMC = 16 * gemmMR
	gemmNC = 1024
)

// gemmNR returns the width of the B panels for T.
func gemmNR[T float]() int {
	var zero T
	if unsafe.Sizeof(zero) == 4 {
		return 16
	}
	return 8
}

// aPacker gives the left operand of a matrix product: an m x k matrix (per batch entry).
type aPacker[T float] interface {
	// packA writes rows [i0, i0+rows) and columns [p0, p0+depth) of batch entry bi to dst as
	// panels of gemmMR rows, each row-major: element (r, p) of panel q at
	// q*gemmMR*depth + r*depth + p. Rows past i0+rows in the last panel are zeros.
	packA(dst []T, bi, i0, rows, p0, depth int)
}

// bPacker gives the right operand of a matrix product: a k x n matrix (per batch entry).
type bPacker[T float] interface {
	// packB writes rows [p0, p0+depth) and columns [j0, j0+cols) of batch entry bi to dst as
	// panels of nr columns: element (p, c) of panel q at q*nr*depth + p*nr + c. Columns past
	// j0+cols in the last panel are zeros.
	packB(dst []T, bi, p0, depth, j0, cols int)
}

// microKernel computes the gemmMR x nr tile c (row stride ldc) as the product of gemmMR rows
// of k values of A (lda apart; a packed panel has lda = k) and a packed B panel (k rows of
// nr values), added to c when acc, stored over c otherwise.
type microKernel[T float] func(k int, a, b, c []T, lda, ldc int, acc bool)

// Micro-kernels in use, chosen at start-up: assembly where the CPU has it, else Go.
var (
	microKernel32 microKernel[float32] = microKernelGo[float32]
	microKernel64 microKernel[float64] = microKernelGo[float64]
)

// kernelFor returns the micro-kernel in use for T.
func kernelFor[T float]() microKernel[T] {
	var k any
	var zero T
	if unsafe.Sizeof(zero) == 4 {
		k = microKernel32
	} else {
		k = microKernel64
	}
	return k.(microKernel[T])
}

// microKernelGo is the portable micro-kernel.
func microKernelGo[T float](k int, a, b, c []T, lda, ldc int, acc bool) {
	nr := gemmNR[T]()
	var tile [gemmMR * 16]T
	for i := range gemmMR {
		ai := a[i*lda : i*lda+k]
		row := tile[i*nr : i*nr+nr]
		for p, v := range ai {
			bp := b[p*nr : p*nr+nr]
			for j, bj := range bp {
				row[j] += v * bj
			}
		}
	}
	for i := range gemmMR {
		dst := c[i*ldc : i*ldc+nr]
		src := tile[i*nr : i*nr+nr]
		if acc {
			for j, v := range src {
				dst[j] += v
			}
		} else {
			copy(dst, src)
		}
	}
}

// gemmJob is a batch of matrix products C[bi] = A[bi]·B[bi] with C row-major [batch, m, n].
type gemmJob[T float] struct {
	batch, m, n, k int
	a              aPacker[T]
	b              bPacker[T]
	c              []T
}

// gemmWorkspace holds the packing buffers of one worker.
type gemmWorkspace[T float] struct {
	a, b []T
	tile []T
}

var workspacePools [2]sync.Pool

func poolIndex[T float]() int {
	var zero T
	if unsafe.Sizeof(zero) == 4 {
		return 0
	}
	return 1
}

func getWorkspace[T float]() *gemmWorkspace[T] {
	if ws, ok := workspacePools[poolIndex[T]()].Get().(*gemmWorkspace[T]); ok {
		return ws
	}
	nr := gemmNR[T]()
	return &gemmWorkspace[T]{
		a:    make([]T, gemmMC*gemmKC),
		b:    make([]T, gemmKC*gemmNC),
		tile: make([]T, gemmMR*nr),
	}
}

func putWorkspace[T float](ws *gemmWorkspace[T]) {
	workspacePools[poolIndex[T]()].Put(ws)
}

// Thresholds of the parallel split, in floating-point operations.
const (
	gemmSerialFlops = 1 << 20 // below: one goroutine
	gemmManyFlops   = 1 << 25 // above: several tasks per worker, for balance
)

// gemmTask is one part of a gemmJob: batch entries [b0, b1), rows [m0, m1), columns [n0, n1)
// and depth [k0, k1), written to out (the job's C, or a partial sum buffer of the same
// layout).
type gemmTask[T float] struct {
	b0, b1, m0, m1, n0, n1, k0, k1 int
	out                            []T
}

// run computes the job, splitting it over the available cores.
func (g *gemmJob[T]) run() {
	if g.k == 0 {
		clear(g.c[:g.batch*g.m*g.n])
		return
	}
	workers := runtime.GOMAXPROCS(0)
	flops := 2 * float64(g.batch) * float64(g.m) * float64(g.n) * float64(g.k)
	target := 1
	switch {
	case workers == 1 || flops < gemmSerialFlops:
	case flops < gemmManyFlops:
		target = workers
	default:
		target = 3 * workers
	}
	sb, sm, sn, sk := g.split(target)

	tasks := make([]gemmTask[T], 0, sb*sm*sn*sk)
	var partials [][]T
	size := g.batch * g.m * g.n
	for ki := range sk {
		out := g.c
		if ki > 0 {
			out = getScratch[T](size)
			partials = append(partials, out)
		}
		k0, k1 := chunk(g.k, sk, ki, gemmKC)
		for bi := range sb {
			b0, b1 := chunk(g.batch, sb, bi, 1)
			for mi := range sm {
				m0, m1 := chunk(g.m, sm, mi, gemmMR)
				for ni := range sn {
					n0, n1 := chunk(g.n, sn, ni, gemmNR[T]())
					if b0 < b1 && m0 < m1 && n0 < n1 && k0 < k1 {
						tasks = append(tasks, gemmTask[T]{b0, b1, m0, m1, n0, n1, k0, k1, out})
					}
				}
			}
		}
	}
	parallelFor(len(tasks), func(t int) {
		ws := getWorkspace[T]()
		g.runTask(ws, &tasks[t])
		putWorkspace(ws)
	})
	if len(partials) > 0 {
		// K was split: add the partial sums (each partial covers the whole C).
		parallelRanges(size, 1<<14, func(from, to int) {
			dst := g.c[from:to]
			for _, p := range partials {
				for i, v := range p[from:to] {
					dst[i] += v
				}
			}
		})
		for _, p := range partials {
			putScratch(p)
		}
	}
}

// split chooses how many parts to cut the batch, rows, columns and depth into so that there
// are about target tasks, preferring the cuts that repeat the least work: cutting the rows
// packs B again for each part, cutting the columns packs A again, cutting the depth adds a
// partial sum of C.
func (g *gemmJob[T]) split(target int) (sb, sm, sn, sk int) {
	sb, sm, sn, sk = 1, 1, 1, 1
	nr := gemmNR[T]()
	for sb*sm*sn*sk < target {
		if sb < g.batch {
			sb++
			continue
		}
		best, bestCost := -1, 0.0
		consider := func(which int, cost float64, ok bool) {
			if ok && (best < 0 || cost < bestCost) {
				best, bestCost = which, cost
			}
		}
		perBatch := float64(g.batch)
		consider(0, perBatch*float64(g.k)*float64(g.n), g.m/(sm+1) >= 4*gemmMR)
		consider(1, perBatch*float64(g.m)*float64(g.k), g.n/(sn+1) >= 2*nr)
		consider(2, 2*perBatch*float64(g.m)*float64(g.n), g.k/(sk+1) >= gemmKC)
		switch best {
		case 0:
			sm++
		case 1:
			sn++
		case 2:
			sk++
		default:
			return
		}
	}
	return
}

// chunk returns part i of n cuts of [0, size), with boundaries at multiples of align.
func chunk(size, n, i, align int) (from, to int) {
	step := (size + n - 1) / n
	step = (step + align - 1) / align * align
	from, to = min(i*step, size), min((i+1)*step, size)
	return
}

// runTask computes one task on one goroutine.
func (g *gemmJob[T]) runTask(ws *gemmWorkspace[T], t *gemmTask[T]) {
	nr := gemmNR[T]()
	kernel := kernelFor[T]()
	ldc := g.n
	for bi := t.b0; bi < t.b1; bi++ {
		cBatch := t.out[bi*g.m*g.n : (bi+1)*g.m*g.n]
		for jc := t.n0; jc < t.n1; jc += gemmNC {
			nb := min(gemmNC, t.n1-jc)
			for pc := t.k0; pc < t.k1; pc += gemmKC {
				kb := min(gemmKC, t.k1-pc)
				acc := pc > t.k0
				g.b.packB(ws.b, bi, pc, kb, jc, nb)
				for ic := t.m0; ic < t.m1; ic += gemmMC {
					mb := min(gemmMC, t.m1-ic)
					g.a.packA(ws.a, bi, ic, mb, pc, kb)
					for jr := 0; jr < nb; jr += nr {
						bPanel := ws.b[jr*kb : (jr+nr)*kb]
						cols := min(nr, nb-jr)
						for ir := 0; ir < mb; ir += gemmMR {
							aPanel := ws.a[ir*kb : (ir+gemmMR)*kb]
							rows := min(gemmMR, mb-ir)
							cOff := (ic+ir)*ldc + jc + jr
							if rows == gemmMR && cols == nr {
								kernel(kb, aPanel, bPanel, cBatch[cOff:], kb, ldc, acc)
								continue
							}
							// Edge tile: compute into the workspace tile, then copy.
							kernel(kb, aPanel, bPanel, ws.tile, kb, nr, false)
							for r := range rows {
								dst := cBatch[cOff+r*ldc : cOff+r*ldc+cols]
								src := ws.tile[r*nr : r*nr+cols]
								if acc {
									for j, v := range src {
										dst[j] += v
									}
								} else {
									copy(dst, src)
								}
							}
						}
					}
				}
			}
		}
	}
}

// maxWorkers is the number of goroutines the kernels use at most.
func maxWorkers() int { return max(1, runtime.GOMAXPROCS(0)) }

// parallelFor calls fn(i) for i in [0, n), spread over up to GOMAXPROCS goroutines (the
// caller's included), each taking the next index when done with one.
func parallelFor(n int, fn func(i int)) {
	workers := min(runtime.GOMAXPROCS(0), n)
	if workers <= 1 {
		for i := range n {
			fn(i)
		}
		return
	}
	var next atomic.Int64
	work := func() {
		for {
			i := int(next.Add(1) - 1)
			if i >= n {
				return
			}
			fn(i)
		}
	}
	var wg sync.WaitGroup
	for range workers - 1 {
		wg.Go(work)
	}
	work()
	wg.Wait()
}

// parallelRanges cuts [0, n) into ranges of at least minSize and calls fn on them in
// parallel.
func parallelRanges(n, minSize int, fn func(from, to int)) {
	parts := min(runtime.GOMAXPROCS(0), max(n/max(minSize, 1), 1))
	if parts <= 1 {
		if n > 0 {
			fn(0, n)
		}
		return
	}
	parallelFor(parts, func(i int) {
		from, to := chunk(n, parts, i, 1)
		if from < to {
			fn(from, to)
		}
	})
}

// microKernelName says which micro-kernel the matrix products use: "go" (portable) or the
// instruction set of the assembly one.
var microKernelName = "go"

// MicroKernel returns the instruction set of the matrix-product micro-kernel chosen for this
// CPU at start-up: "avx2+fma" (assembly) or "go" (portable Go, on other CPUs or with the
// purego build tag).
func MicroKernel() string { return microKernelName }
