package cpubackend

import (
	"math"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
)

// composedBackend returns a "cpu" backend with kernels=off: every operation composed from
// SimpleGo's, as before the kernels existed.
var composedBackend = sync.OnceValue(func() backends.Backend {
	b, err := NewBackend("kernels=off")
	if err != nil {
		panic(err)
	}
	return b
})

func TestKernelBridgeIsInPlace(t *testing.T) {
	if !kernelsOK {
		t.Fatalf("kernels unavailable: %s", kernelsProblem)
	}
	if simplego.Capabilities.Operations[carrierOp] {
		t.Errorf("carrier %s is an operation SimpleGo implements", carrierOp)
	}
}

// opTypeOf reads the operation type of a SimpleGo node.
func opTypeOf(node *simplego.Node) backends.OpType {
	return backends.OpType(reflect.ValueOf(node).Elem().FieldByName("opType").Int())
}

// TestPlainGoBackendIsUnaffected checks that registering the kernels changed nothing for
// GoMLX's own "go" backend: no other executor slot holds the dispatcher, its capabilities
// are its own, and its builder still makes its own DotGeneral and ConvGeneral nodes.
func TestPlainGoBackendIsUnaffected(t *testing.T) {
	dispatcher := reflect.ValueOf(dispatchKernel).Pointer()
	for op := backends.OpType(0); op < backends.OpTypeLast; op++ {
		ex := goNodeExecutors[op]
		isDispatcher := ex != nil && reflect.ValueOf(ex).Pointer() == dispatcher
		if isDispatcher != (op == carrierOp) {
			t.Errorf("executor of %s: dispatcher=%v", op, isDispatcher)
		}
	}
	for _, op := range addedOps {
		if simplego.Capabilities.Operations[op] {
			t.Errorf("simplego.Capabilities lists %s", op)
		}
	}

	goB := goBackend()
	b := goB.Builder("plain").(*simplego.Builder)
	x, err := b.Parameter("x", shapes.Make(dtypes.Float32, 2, 4, 4, 3), nil)
	if err != nil {
		t.Fatal(err)
	}
	k, err := b.Parameter("k", shapes.Make(dtypes.Float32, 3, 3, 3, 2), nil)
	if err != nil {
		t.Fatal(err)
	}
	axes := backends.ConvolveAxesConfig{InputBatch: 0, InputSpatial: []int{1, 2},
		InputChannels: 3, KernelSpatial: []int{0, 1}, KernelInputChannels: 2,
		KernelOutputChannels: 3, OutputBatch: 0, OutputSpatial: []int{1, 2}, OutputChannels: 3}
	conv, err := b.ConvGeneral(x, k, axes, []int{1, 1}, [][2]int{{1, 1}, {1, 1}}, []int{1, 1},
		[]int{1, 1}, 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	dot, err := b.DotGeneral(x, []int{3}, nil, k, []int{2}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, op := range []backends.Op{conv, dot} {
		node := op.(*simplego.Node)
		if opTypeOf(node) == carrierOp {
			t.Errorf("plain go builder made a %s node", carrierOp)
		}
		if _, ok := (*nodeData(node)).(kernelOp); ok {
			t.Errorf("plain go builder node holds a kernel")
		}
	}
	if _, err := b.Reverse(x, 1); err == nil {
		t.Error("plain go backend gained Reverse")
	}
}

// TestDispatcherRejectsForeignNodes checks the error for a carrier node without a kernel,
// the same SimpleGo gives for an operation it does not implement.
func TestDispatcherRejectsForeignNodes(t *testing.T) {
	b := goBackend().Builder("foreign").(*simplego.Builder)
	node := goNewNode(b, carrierOp, shapes.Make(dtypes.Float32, 1))
	_, err := dispatchKernel(goBackend().(*simplego.Backend), node, nil, nil)
	if err == nil || !strings.Contains(err.Error(), "not implemented") {
		t.Errorf("dispatch of a foreign node: err = %v", err)
	}
}

func TestKernelNodesAreUsed(t *testing.T) {
	b := cpuBackend().Builder("kernels").(*Builder)
	x, _ := b.Parameter("x", shapes.Make(dtypes.Float32, 3, 4), nil)
	y, _ := b.Parameter("y", shapes.Make(dtypes.Float32, 4, 5), nil)
	dot, err := b.DotGeneral(x, []int{1}, nil, y, []int{0}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := (*nodeData(dot.(*simplego.Node))).(*dotOp[float32]); !ok {
		t.Errorf("DotGeneral on float32 did not make a kernel node")
	}
	i, _ := b.Parameter("i", shapes.Make(dtypes.Int32, 3, 4), nil)
	j, _ := b.Parameter("j", shapes.Make(dtypes.Int32, 4, 5), nil)
	dotInt, err := b.DotGeneral(i, []int{1}, nil, j, []int{0}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if opTypeOf(dotInt.(*simplego.Node)) == carrierOp {
		t.Errorf("DotGeneral on int32 made a kernel node")
	}
}

// TestComposedPathMatchesReference keeps the composition (kernels=off, used for other dtypes
// and for comparison) tested.
func TestComposedPathMatchesReference(t *testing.T) {
	for i, s := range convSpecs {
		t.Run(s.name, func(t *testing.T) {
			x, k := randomArray(uint64(10+i), s.x...), randomArray(uint64(20+i), s.k...)
			got := run(t, composedBackend(), convGraph(s, false), x.tensor64(), k.tensor64())[0]
			assertClose(t, "composed conv", got, convReference(x, k, s), 1e-12)
		})
	}
	t.Run("gradients", func(t *testing.T) {
		x, k := randomArray(161, 2, 6, 5, 3), randomArray(162, 3, 3, 3, 2)
		fn := func(x, k *Node) []*Node {
			loss := weightedSum(Convolve(x, k).PadSame().Strides(2).Done())
			return Gradient(loss, x, k)
		}
		want := run(t, cpuBackend(), fn, x.tensor64(), k.tensor64())
		got := run(t, composedBackend(), fn, x.tensor64(), k.tensor64())
		for i := range want {
			assertClose(t, "gradient", got[i], want[i], 1e-12)
		}
	})
}

// TestKernelsTrainLikeTheComposition trains the same small network with the same seeds on the
// kernels and on the composed path: the losses of every step must agree. (The evaluation loss
// is not compared: the gradient of a bias followed by batch normalisation is zero up to
// rounding, Adam turns that rounding into full steps of either sign, and the moving averages
// used in evaluation follow the bias.)
func TestKernelsTrainLikeTheComposition(t *testing.T) {
	const steps = 5
	got, _, err := trainTiny(cpuBackend(), 3, steps, 8)
	if err != nil {
		t.Fatal(err)
	}
	want, _, err := trainTiny(composedBackend(), 3, steps, 8)
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		if d := math.Abs(got[i]-want[i]) / math.Max(want[i], 1e-3); d > 1e-4 {
			t.Errorf("step %d: loss %.6f with kernels, %.6f composed", i, got[i], want[i])
		}
	}
}
