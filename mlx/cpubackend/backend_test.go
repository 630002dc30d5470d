package cpubackend

import (
	"math"
	"slices"
	"testing"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
)

func TestBackendIsRegisteredAsCPU(t *testing.T) {
	if !slices.Contains(backends.List(), BackendName) {
		t.Fatalf("backends.List() = %v, want it to hold %q", backends.List(), BackendName)
	}
	b := cpuBackend()
	if b.String() != "cpu" || b.Name() != "dlexp CPU (cpu)" {
		t.Errorf("String() = %q, Name() = %q", b.String(), b.Name())
	}
	for _, op := range addedOps {
		if !b.Capabilities().Operations[op] {
			t.Errorf("capabilities lack %s", op)
		}
		if simplego.Capabilities.Operations[op] {
			t.Errorf("simplego.Capabilities was modified: it lists %s", op)
		}
	}
}

func TestNewAcceptsSimpleGoOptionsAndRejectsUnknown(t *testing.T) {
	b, err := NewBackend("ops_sequential,parallelism=2")
	if err != nil {
		t.Fatalf("NewBackend: %v", err)
	}
	if b.Config() != "ops_sequential,parallelism=2" {
		t.Errorf("Config() = %q", b.Config())
	}
	if _, err := New("no_such_option"); err == nil {
		t.Error("New accepted an unknown option")
	}
	if _, err := New("conv=fft"); err == nil {
		t.Error("New accepted conv=fft")
	}
	native, err := NewBackend("conv=native")
	if err != nil || !native.nativeConv || b.nativeConv {
		t.Errorf("conv=native: err=%v, native=%v; default native=%v", err, native != nil &&
			native.nativeConv, b.nativeConv)
	}
	if !hasOption(" parallelism=3", "parallelism") || hasOption("ops_parallel", "parallelism") {
		t.Error("hasOption misreads options")
	}
}

// TestSliceAcceptsNilStrides calls the builder directly, as GoMLX's graph package always
// fills the strides itself.
func TestSliceAcceptsNilStrides(t *testing.T) {
	backend := cpuBackend()
	b := backend.Builder("slice")
	x, err := b.Parameter("x", shapes.Make(dtypes.Float32, 2, 5), nil)
	if err != nil {
		t.Fatal(err)
	}
	y, err := b.Slice(x, []int{0, 1}, []int{2, 4}, nil)
	if err != nil {
		t.Fatalf("Slice with nil strides: %v", err)
	}
	exec, err := b.Compile([]backends.Op{y}, nil)
	if err != nil {
		t.Fatal(err)
	}
	in, err := backend.BufferFromFlatData(0, []float32{0, 1, 2, 3, 4, 5, 6, 7, 8, 9},
		shapes.Make(dtypes.Float32, 2, 5))
	if err != nil {
		t.Fatal(err)
	}
	outs, err := exec.Execute([]backends.Buffer{in}, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	got := make([]float32, 6)
	if err := backend.BufferToFlatData(outs[0], got); err != nil {
		t.Fatal(err)
	}
	if want := []float32{1, 2, 3, 6, 7, 8}; !slices.Equal(got, want) {
		t.Errorf("Slice = %v, want %v", got, want)
	}
}

// TestOverridesNeverReturnTheirInput checks that no-op Pad and Reverse give new nodes, so
// that the input and the result can both be outputs of one computation.
func TestOverridesNeverReturnTheirInput(t *testing.T) {
	x := randomArray(3, 2, 1)
	outs := run(t, cpuBackend(), func(x *Node) []*Node {
		return []*Node{x, Pad(x, ScalarZero(x.Graph(), x.DType())), Reverse(x, 1)}
	}, x.tensor64())
	for _, o := range outs {
		assertClose(t, "output", o, x, 0)
	}
}

func TestReverseMatchesReference(t *testing.T) {
	x := randomArray(5, 3, 4, 2)
	got := run(t, cpuBackend(), func(x *Node) *Node { return Reverse(x, 0, 2) }, x.tensor64())[0]
	want := newArray(x.dims...)
	forEach(x.dims, func(idx []int) {
		from := []int{x.dims[0] - 1 - idx[0], idx[1], x.dims[2] - 1 - idx[2]}
		want.data[want.index(idx)] = x.data[x.index(from)]
	})
	assertClose(t, "Reverse", got, want, 0)
}

// batchNormFormula is batch normalisation written with plain graph ops (runs on SimpleGo).
func batchNormFormula(x, scale, offset, mean, variance *Node, axis int) *Node {
	dims := make([]int, x.Rank())
	for i := range dims {
		dims[i] = 1
	}
	dims[axis] = x.Shape().Dimensions[axis]
	r := func(v *Node) *Node { return Reshape(v, dims...) }
	return Add(Mul(Div(Sub(x, r(mean)), Sqrt(AddScalar(r(variance), 1e-3))), r(scale)), r(offset))
}

func TestBatchNormMatchesFormulaOnSimpleGo(t *testing.T) {
	x := randomArray(7, 4, 3, 3, 2)
	scale, offset := randomArray(8, 3), randomArray(9, 3)
	mean, variance := randomArray(10, 3), randomArray(11, 3)
	for i := range variance.data {
		variance.data[i] = math.Abs(variance.data[i]) + 0.1
	}
	const axis = 1
	inference := func(x, s, o, m, v *Node) *Node {
		return InternalBatchNormForInference(x, s, o, m, v, 1e-3, axis)
	}
	formula := func(x, s, o, m, v *Node) *Node { return batchNormFormula(x, s, o, m, v, axis) }
	// Tensors are tied to the backend they are used on: make a fresh set for each run.
	args := func() []any {
		return []any{x.tensor64(), scale.tensor64(), offset.tensor64(), mean.tensor64(),
			variance.tensor64()}
	}
	got := run(t, cpuBackend(), inference, args()...)[0]
	want := run(t, goBackend(), formula, args()...)[0]
	assertClose(t, "inference", got, want, 1e-9) // epsilon is a float32

	training := func(x, s, o *Node) []*Node {
		y, m, v := InternalBatchNormForTraining(x, s, o, 1e-3, axis)
		return []*Node{y, m, v}
	}
	trainingFormula := func(x, s, o *Node) []*Node {
		axes := []int{0, 2, 3}
		m := ReduceMean(x, axes...)
		centered := Sub(x, Reshape(m, 1, 3, 1, 1))
		v := ReduceMean(Mul(centered, centered), axes...)
		return []*Node{batchNormFormula(x, s, o, m, v, axis), m, v}
	}
	gots := run(t, cpuBackend(), training, args()[:3]...)
	wants := run(t, goBackend(), trainingFormula, args()[:3]...)
	for i, name := range []string{"normalized", "mean", "variance"} {
		assertClose(t, name, gots[i], wants[i], 1e-9)
	}
}

// TestSelectAndScatterPicksFirstMaximum checks ties: the first maximum of a window gets the
// whole source value.
func TestSelectAndScatterPicksFirstMaximum(t *testing.T) {
	x := &array{dims: []int{1, 2, 4, 1}, data: []float64{
		1, 1, 0, 5,
		0, 1, 5, 2,
	}}
	got := run(t, cpuBackend(), func(x *Node) *Node {
		loss := ReduceAllSum(Mul(MaxPool(x).Window(2).Done(),
			Const(x.Graph(), [][][][]float64{{{{10}, {20}}}})))
		return Gradient(loss, x)[0]
	}, x.tensor64())[0]
	want := &array{dims: x.dims, data: []float64{
		10, 0, 0, 20,
		0, 0, 0, 0,
	}}
	assertClose(t, "max pool gradient", got, want, 0)
}
