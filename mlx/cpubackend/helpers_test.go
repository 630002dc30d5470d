package cpubackend

import (
	"math"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
)

// cpuBackend returns the shared "cpu" backend of the tests.
var cpuBackend = sync.OnceValue(func() backends.Backend {
	b, err := backends.NewWithConfig(BackendName)
	if err != nil {
		panic(err)
	}
	return b
})

// goBackend returns a plain SimpleGo backend, the reference for operations it has.
var goBackend = sync.OnceValue(func() backends.Backend {
	b, err := newQuietSimpleGo("parallelism=-1")
	if err != nil {
		panic(err)
	}
	return b
})

// array is a dense float64 tensor in row-major order, used as reference in tests.
type array struct {
	dims []int
	data []float64
}

func newArray(dims ...int) *array {
	return &array{dims: append([]int(nil), dims...), data: make([]float64, product(dims))}
}

// randomArray returns an array with values uniform in [-1, 1), from a fixed seed.
func randomArray(seed uint64, dims ...int) *array {
	a := newArray(dims...)
	rng := rand.New(rand.NewPCG(seed, 7))
	for i := range a.data {
		a.data[i] = rng.Float64()*2 - 1
	}
	return a
}

// strides returns the row-major strides of the array.
func (a *array) strides() []int {
	s := make([]int, len(a.dims))
	acc := 1
	for i := len(a.dims) - 1; i >= 0; i-- {
		s[i] = acc
		acc *= a.dims[i]
	}
	return s
}

// index returns the flat index of the multi-index idx.
func (a *array) index(idx []int) int {
	flat := 0
	for i, s := range a.strides() {
		flat += idx[i] * s
	}
	return flat
}

// forEach calls fn with every multi-index of dims, in row-major order.
func forEach(dims []int, fn func(idx []int)) {
	idx := make([]int, len(dims))
	for _, d := range dims {
		if d == 0 {
			return
		}
	}
	for {
		fn(idx)
		axis := len(dims) - 1
		for ; axis >= 0; axis-- {
			idx[axis]++
			if idx[axis] < dims[axis] {
				break
			}
			idx[axis] = 0
		}
		if axis < 0 {
			return
		}
	}
}

func (a *array) tensor64() *tensors.Tensor {
	return tensors.FromFlatDataAndDimensions(append([]float64(nil), a.data...), a.dims...)
}

func (a *array) tensor32() *tensors.Tensor {
	flat := make([]float32, len(a.data))
	for i, v := range a.data {
		flat[i] = float32(v)
	}
	return tensors.FromFlatDataAndDimensions(flat, a.dims...)
}

// arrayOf converts a float32 or float64 tensor to an array.
func arrayOf(t *testing.T, x *tensors.Tensor) *array {
	t.Helper()
	a := &array{dims: x.Shape().Dimensions, data: make([]float64, x.Shape().Size())}
	x.MustConstFlatData(func(f any) {
		switch v := f.(type) {
		case []float64:
			copy(a.data, v)
		case []float32:
			for i, e := range v {
				a.data[i] = float64(e)
			}
		default:
			t.Fatalf("unexpected flat type %T", v)
		}
	})
	return a
}

// assertClose fails when got and want differ in shape or by more than tol (absolute, scaled
// by max(1, |want|)).
func assertClose(t *testing.T, name string, got, want *array, tol float64) {
	t.Helper()
	if len(got.dims) != len(want.dims) {
		t.Fatalf("%s: dims %v, want %v", name, got.dims, want.dims)
	}
	for i := range got.dims {
		if got.dims[i] != want.dims[i] {
			t.Fatalf("%s: dims %v, want %v", name, got.dims, want.dims)
		}
	}
	worst, worstAt := 0.0, -1
	for i := range got.data {
		d := math.Abs(got.data[i]-want.data[i]) / math.Max(1, math.Abs(want.data[i]))
		if d > worst || math.IsNaN(d) {
			worst, worstAt = d, i
		}
	}
	if worst > tol || math.IsNaN(worst) {
		t.Fatalf("%s: largest difference %.3g at flat index %d (got %g, want %g), tolerance %.3g",
			name, worst, worstAt, got.data[worstAt], want.data[worstAt], tol)
	}
}

// run executes fn on backend with the given inputs and returns its outputs as arrays.
func run(t *testing.T, backend backends.Backend, fn any, inputs ...any) []*array {
	t.Helper()
	exec, err := graph.NewExecAny(backend, fn)
	if err != nil {
		t.Fatalf("NewExec: %v", err)
	}
	defer exec.Finalize()
	outs, err := exec.Exec(inputs...)
	if err != nil {
		t.Fatalf("Exec on %s: %v", backend.String(), err)
	}
	res := make([]*array, len(outs))
	for i, o := range outs {
		res[i] = arrayOf(t, o)
	}
	return res
}
