package cpubackend

import (
	"fmt"
	"math"
	"testing"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"
	. "github.com/gomlx/gomlx/pkg/core/graph"
)

// positiveArray returns values in [0.5, 1.5), valid for Sqrt, Log, Pow and Div.
func positiveArray(seed uint64, dims ...int) *array {
	a := randomArray(seed, dims...)
	for i := range a.data {
		a.data[i] = a.data[i]/2 + 1
	}
	return a
}

// TestFusedOperationsMatchSimpleGo checks every fused operation, on both dtypes, with
// lengths that are not multiples of the vector width or the chunk, vectors against vectors,
// scalars and per-channel broadcasts.
func TestFusedOperationsMatchSimpleGo(t *testing.T) {
	x, y := randomArray(801, 3, 7, 37), positiveArray(802, 3, 7, 37)
	perChannel, perRow := positiveArray(803, 1, 1, 37), positiveArray(804, 1, 7, 1)
	unaries := map[string]func(*Node) *Node{
		"Neg": Neg, "Abs": Abs, "Sign": Sign, "Exp": Exp, "Tanh": Tanh, "Logistic": Logistic,
		"Sqrt": func(v *Node) *Node { return Sqrt(Abs(v)) },
		"Rsqrt": func(v *Node) *Node {
			return Rsqrt(AddScalar(Abs(v), 0.5))
		},
		"Log": func(v *Node) *Node { return Log(AddScalar(Abs(v), 0.5)) },
	}
	binaries := map[string]func(a, b *Node) *Node{
		"Add": Add, "Sub": Sub, "Mul": Mul, "Div": Div, "Max": Max, "Min": Min, "Pow": Pow,
	}
	check := func(t *testing.T, name string, fn any, tol float64, args ...*array) {
		t.Helper()
		for _, f32 := range []bool{false, true} {
			in := func() []any {
				res := make([]any, len(args))
				for i, a := range args {
					if f32 {
						res[i] = a.tensor32()
					} else {
						res[i] = a.tensor64()
					}
				}
				return res
			}
			want := run(t, goBackend(), fn, in()...)[0]
			got := run(t, cpuBackend(), fn, in()...)[0]
			tolerance := tol
			if f32 {
				tolerance = 1e-6
			}
			assertClose(t, fmt.Sprintf("%s float32=%v", name, f32), got, want, tolerance)
		}
	}
	for name, fn := range unaries {
		t.Run(name, func(t *testing.T) {
			check(t, name, func(a *Node) *Node { return fn(a) }, 1e-15, x)
			check(t, name+" of scalar", func(a *Node) *Node {
				return Add(a, fn(Scalar(a.Graph(), a.DType(), 0.7)))
			}, 1e-15, x)
		})
	}
	for name, fn := range binaries {
		t.Run(name, func(t *testing.T) {
			lhs := x
			if name == "Pow" {
				lhs = y
			}
			check(t, name+" vv", func(a, b *Node) *Node { return fn(a, b) }, 1e-15, lhs, y)
			check(t, name+" vs", func(a *Node) *Node {
				return fn(a, Scalar(a.Graph(), a.DType(), 1.3))
			}, 1e-15, lhs)
			check(t, name+" sv", func(b *Node) *Node {
				return fn(Scalar(b.Graph(), b.DType(), 1.3), b)
			}, 1e-15, y)
			check(t, name+" per channel", func(a, c *Node) *Node { return fn(a, c) }, 1e-15,
				lhs, perChannel)
			check(t, name+" per row", func(a, r *Node) *Node { return fn(r, a) }, 1e-15,
				lhs, perRow)
		})
	}
}

// TestFusedChainsInlineAndStayCorrect builds long chains (beyond the node and leaf limits),
// operands used twice, and broadcasts of scalars and vectors, and compares with SimpleGo.
func TestFusedChainsInlineAndStayCorrect(t *testing.T) {
	x := randomArray(811, 5, 9, 48) // 48 channels: a chunk that is not a power of two
	leaves := make([]*array, 12)
	for i := range leaves {
		leaves[i] = randomArray(uint64(820+i), 1, 1, 48)
	}
	fn := func(inputs []*Node) *Node {
		v := inputs[0]
		relu := Max(v, ZerosLike(v))
		grad := Mul(v, NonNegativeIndicator(Sub(relu, ZerosLike(relu))))
		out := Mul(grad, grad)
		for _, l := range inputs[1:] {
			out = Add(Mul(out, l), Sub(v, l))
		}
		two := ConvertDType(Const(v.Graph(), float64(2)), v.DType())
		return Add(out, BroadcastToDims(two, 5, 9, 48))
	}
	in := []*array{x}
	in = append(in, leaves...)
	args := func(f32 bool) []any {
		res := make([]any, len(in))
		for i, a := range in {
			if f32 {
				res[i] = a.tensor32()
			} else {
				res[i] = a.tensor64()
			}
		}
		return res
	}
	exec := func(backend backends.Backend, f32 bool) *array {
		t.Helper()
		e, err := NewExec(backend, fn)
		if err != nil {
			t.Fatal(err)
		}
		defer e.Finalize()
		outs, err := e.Exec(args(f32)...)
		if err != nil {
			t.Fatal(err)
		}
		return arrayOf(t, outs[0])
	}
	for _, f32 := range []bool{false, true} {
		want := exec(goBackend(), f32)
		got := exec(cpuBackend(), f32)
		tol := 1e-12
		if f32 {
			tol = 1e-4
		}
		assertClose(t, fmt.Sprintf("chain float32=%v", f32), got, want, tol)
	}
}

// TestFusedExpressionsRespectLimits checks that a fused expression never exceeds the node
// and leaf limits, however long the chain that built it.
func TestFusedExpressionsRespectLimits(t *testing.T) {
	b := cpuBackend().Builder("limits").(*Builder)
	shape := randomArray(1, 4, 8).tensor32().Shape()
	x, err := b.Parameter("x", shape, nil)
	if err != nil {
		t.Fatal(err)
	}
	out := x
	for i := range 40 {
		p, err := b.Parameter(fmt.Sprintf("p%d", i), shape, nil)
		if err != nil {
			t.Fatal(err)
		}
		if out, err = b.Add(out, p); err != nil {
			t.Fatal(err)
		}
		f, ok := fusedOf(out)
		if !ok {
			t.Fatalf("step %d: Add did not fuse", i)
		}
		if len(f.nodes) > maxFuseNodes || len(f.leaves) > maxFuseLeaves {
			t.Fatalf("step %d: %d nodes, %d leaves", i, len(f.nodes), len(f.leaves))
		}
	}
	if _, ok := (*nodeData(out.(*simplego.Node))).(*fusedOp); !ok {
		t.Fatal("last node is not fused")
	}
}

func TestBroadcastPattern(t *testing.T) {
	cases := []struct {
		dims, out []int
		div, mod  int
		ok        bool
	}{
		{nil, []int{3, 4}, 1, 1, true},
		{[]int{1, 1}, []int{3, 4}, 1, 1, true},
		{[]int{3, 4}, []int{3, 4}, 1, 12, true},
		{[]int{1, 4}, []int{3, 4}, 1, 4, true},
		{[]int{3, 1}, []int{3, 4}, 4, 3, true},
		{[]int{1, 5, 6, 1}, []int{2, 5, 6, 7}, 7, 30, true},
		{[]int{2, 1, 7}, []int{2, 5, 7}, 0, 0, false},
		{[]int{2, 5}, []int{2, 5, 7}, 0, 0, false},
	}
	for _, c := range cases {
		div, mod, ok := broadcastPattern(c.dims, c.out)
		if ok != c.ok || (ok && (div != c.div || mod != c.mod)) {
			t.Errorf("broadcastPattern(%v, %v) = %d, %d, %v; want %d, %d, %v", c.dims, c.out,
				div, mod, ok, c.div, c.mod, c.ok)
		}
	}
	if got := lcm(48, 512); got != 1536 {
		t.Errorf("lcm(48, 512) = %d", got)
	}
	if v := binaryScalar(fuseMax, float32(math.NaN()), 2); !math.IsNaN(float64(v)) {
		t.Errorf("max(NaN, 2) = %v, want NaN", v)
	}
}

// TestFusedLongBroadcastPeriod covers a broadcast whose pattern is too long to be filled in
// once per worker (it is filled chunk by chunk).
func TestFusedLongBroadcastPeriod(t *testing.T) {
	x, rows := randomArray(841, 3, 70, 37), randomArray(842, 1, 70, 1)
	fn := func(a, r *Node) *Node { return Mul(Add(a, r), r) }
	want := run(t, goBackend(), fn, x.tensor64(), rows.tensor64())[0]
	got := run(t, cpuBackend(), fn, x.tensor64(), rows.tensor64())[0]
	assertClose(t, "long period", got, want, 1e-15)
	b := cpuBackend().Builder("period").(*Builder)
	xp, _ := b.Parameter("x", x.tensor32().Shape(), nil)
	rp, _ := b.Parameter("r", rows.tensor32().Shape(), nil)
	sum, err := b.Add(xp, rp)
	if err != nil {
		t.Fatal(err)
	}
	if f, ok := fusedOf(sum); !ok || f.periodic[1] {
		t.Errorf("a broadcast with period %d is marked periodic", 70*37)
	}
}

// TestPlanFusionReadsSharedOperands checks that Compile turns an expensive expression
// inlined by two readers into one computed once and read by both, and an expression that
// another node reads anyway into a leaf, with the same results.
func TestPlanFusionReadsSharedOperands(t *testing.T) {
	x := randomArray(851, 6, 70)
	fn := func(x *Node) []*Node {
		shared := x
		for i := range 7 {
			shared = Mul(AddScalar(shared, float64(i)), x) // 14 operations
		}
		cheap := Neg(x)
		return []*Node{MulScalar(shared, 2), AddScalar(shared, 1), Add(cheap, shared),
			ReduceSum(cheap, 1)}
	}
	want := run(t, goBackend(), fn, x.tensor64())
	got := run(t, cpuBackend(), fn, x.tensor64())
	for i := range want {
		assertClose(t, fmt.Sprint("output ", i), got[i], want[i], 1e-12)
	}

	// The same graph built directly, to look at the expressions after Compile.
	b := cpuBackend().Builder("plan").(*Builder)
	xp, err := b.Parameter("x", x.tensor64().Shape(), nil)
	if err != nil {
		t.Fatal(err)
	}
	shared := xp
	for range 7 {
		if shared, err = b.Add(shared, xp); err != nil {
			t.Fatal(err)
		}
		if shared, err = b.Mul(shared, xp); err != nil {
			t.Fatal(err)
		}
	}
	cheap, _ := b.Neg(xp)
	first, _ := b.Sub(shared, xp)
	second, _ := b.Add(shared, cheap)
	sum, _ := b.ReduceSum(cheap, 1)
	for _, op := range []backends.Op{first, second} {
		if f, _ := fusedOf(op); len(f.leaves) != 1 && len(f.leaves) != 2 {
			t.Fatalf("before Compile: %d leaves", len(f.leaves))
		}
	}
	exec, err := b.Compile([]backends.Op{first, second, sum}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer exec.Finalize()
	reads := func(op, operand backends.Op) bool {
		f, _ := fusedOf(op)
		for _, l := range f.leaves {
			if l.op == operand {
				return true
			}
		}
		return false
	}
	if !reads(first, shared) || !reads(second, shared) {
		t.Error("the shared expression is still inlined by its readers after Compile")
	}
	if !reads(second, cheap) {
		t.Error("the expression ReduceSum reads is recomputed by another reader")
	}
}
