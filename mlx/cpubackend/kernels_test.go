package cpubackend

import (
	"fmt"
	"slices"
	"testing"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/core/tensors/images"
)

// kernelConvSpecs are convolutions with sizes that are not multiples of the blocking (odd
// channels, rows and columns that leave edge tiles, long contractions that are cut).
var kernelConvSpecs = []convSpec{
	{name: "1 channel", x: []int{3, 9, 7, 1}, k: []int{3, 3, 1, 5},
		strides: [2]int{1, 1}, pads: [2][2]int{{1, 1}, {1, 1}},
		inputDilations: [2]int{1, 1}, kernelDilations: [2]int{1, 1}},
	{name: "17 to 3 channels", x: []int{3, 9, 7, 17}, k: []int{3, 3, 17, 3},
		strides: [2]int{1, 1}, pads: [2][2]int{{1, 1}, {1, 1}},
		inputDilations: [2]int{1, 1}, kernelDilations: [2]int{1, 1}},
	{name: "parallel rows", x: []int{4, 20, 19, 17}, k: []int{3, 3, 17, 33},
		strides: [2]int{1, 1}, pads: [2][2]int{{1, 1}, {1, 1}},
		inputDilations: [2]int{1, 1}, kernelDilations: [2]int{1, 1}},
	{name: "long contraction", x: []int{1, 5, 5, 130}, k: []int{3, 3, 130, 2},
		strides: [2]int{1, 1}, pads: [2][2]int{{1, 1}, {1, 1}},
		inputDilations: [2]int{1, 1}, kernelDilations: [2]int{1, 1}},
	{name: "1x3 wide padding", x: []int{2, 4, 11, 3}, k: []int{1, 3, 3, 65},
		strides: [2]int{1, 2}, pads: [2][2]int{{0, 0}, {3, 2}},
		inputDilations: [2]int{1, 1}, kernelDilations: [2]int{1, 1}},
	// Read in place (directConv): 8 or more input channels.
	{name: "direct same", x: []int{2, 9, 13, 8}, k: []int{3, 3, 8, 17},
		strides: [2]int{1, 1}, pads: [2][2]int{{1, 1}, {1, 1}},
		inputDilations: [2]int{1, 1}, kernelDilations: [2]int{1, 1}},
	{name: "direct strided wide padding", x: []int{2, 11, 20, 9}, k: []int{3, 5, 9, 33},
		strides: [2]int{2, 2}, pads: [2][2]int{{3, 2}, {2, 3}},
		inputDilations: [2]int{1, 1}, kernelDilations: [2]int{1, 1}},
	{name: "direct row dilation", x: []int{1, 12, 14, 10}, k: []int{3, 3, 10, 3},
		strides: [2]int{1, 1}, pads: [2][2]int{{2, 2}, {1, 1}},
		inputDilations: [2]int{1, 1}, kernelDilations: [2]int{2, 1}},
	{name: "direct 1x1", x: []int{3, 4, 12, 40}, k: []int{1, 1, 40, 16},
		strides: [2]int{1, 1}, inputDilations: [2]int{1, 1}, kernelDilations: [2]int{1, 1}},
	{name: "direct padding rows", x: []int{2, 5, 8, 8}, k: []int{1, 3, 8, 4},
		strides: [2]int{1, 1}, pads: [2][2]int{{1, 1}, {1, 1}},
		inputDilations: [2]int{1, 1}, kernelDilations: [2]int{1, 1}},
	{name: "direct valid", x: []int{2, 8, 15, 12}, k: []int{3, 3, 12, 5},
		strides: [2]int{1, 1}, inputDilations: [2]int{1, 1}, kernelDilations: [2]int{1, 1}},
	{name: "both dilations", x: []int{2, 5, 6, 3}, k: []int{2, 3, 3, 4},
		strides: [2]int{1, 1}, pads: [2][2]int{{2, 1}, {1, 3}},
		inputDilations: [2]int{2, 3}, kernelDilations: [2]int{2, 1}},
	{name: "strides and input dilation", x: []int{2, 5, 6, 3}, k: []int{2, 3, 3, 4},
		strides: [2]int{2, 3}, pads: [2][2]int{{2, 1}, {1, 3}},
		inputDilations: [2]int{2, 3}, kernelDilations: [2]int{1, 1}},
}

func TestConvKernelMatchesReferenceOnOddSizes(t *testing.T) {
	for _, v := range kernelVariants() {
		for i, s := range append(slices.Clone(convSpecs), kernelConvSpecs...) {
			t.Run(v.name+"/"+s.name, func(t *testing.T) {
				x, k := randomArray(uint64(200+i), s.x...), randomArray(uint64(300+i), s.k...)
				want := convReference(x, k, s)
				v.wrap(func() {
					got := run(t, cpuBackend(), convGraph(s, false), x.tensor64(),
						k.tensor64())[0]
					assertClose(t, "float64", got, want, 1e-12)
					got = run(t, cpuBackend(), convGraph(s, false), x.tensor32(),
						k.tensor32())[0]
					assertClose(t, "float32", got, want, 2e-5)
				})
			})
		}
	}
}

// TestConvKernelGradientsMatchComposition compares the gradients (reverse convolutions with
// reversed kernels, kernel gradients with long contractions and transposed outputs) with the
// composed path, on layouts channels last and first.
func TestConvKernelGradientsMatchComposition(t *testing.T) {
	cases := []struct {
		name string
		x, k []int
		fn   func(x, k *Node) *Node
	}{
		{"same", []int{16, 12, 12, 5}, []int{3, 3, 5, 7}, func(x, k *Node) *Node {
			return Convolve(x, k).PadSame().Done()
		}},
		{"strided", []int{3, 11, 10, 4}, []int{3, 3, 4, 6}, func(x, k *Node) *Node {
			return Convolve(x, k).PadSame().StridePerAxis(2, 3).Done()
		}},
		{"dilated", []int{3, 11, 10, 4}, []int{3, 3, 4, 6}, func(x, k *Node) *Node {
			return Convolve(x, k).PadSame().DilationPerAxis(1, 2).Done()
		}},
		{"direct", []int{4, 10, 13, 9}, []int{3, 3, 9, 11}, func(x, k *Node) *Node {
			return Convolve(x, k).PadSame().Done()
		}},
		{"direct strided", []int{2, 12, 14, 16}, []int{3, 3, 16, 8}, func(x, k *Node) *Node {
			return Convolve(x, k).PadSame().Strides(2).Done()
		}},
		{"channels first", []int{3, 5, 9, 8}, []int{7, 5, 3, 3}, func(x, k *Node) *Node {
			return Convolve(x, k).ChannelsAxis(images.ChannelsFirst).PadSame().Done()
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			x, k := randomArray(401, tc.x...), randomArray(402, tc.k...)
			fn := func(x, k *Node) []*Node {
				loss := weightedSum(tc.fn(x, k))
				return Gradient(loss, x, k)
			}
			want := run(t, composedBackend(), fn, x.tensor64(), k.tensor64())
			got := run(t, cpuBackend(), fn, x.tensor64(), k.tensor64())
			for i := range want {
				assertClose(t, fmt.Sprintf("gradient %d", i), got[i], want[i], 1e-11)
			}
		})
	}
}

func TestDotGeneralKernelMatchesSimpleGo(t *testing.T) {
	cases := []struct {
		name                   string
		lhs, rhs               []int
		lhsC, lhsB, rhsC, rhsB []int
	}{
		{"matrix", []int{17, 33}, []int{33, 5}, []int{1}, nil, []int{0}, nil},
		{"both transposed", []int{33, 17}, []int{5, 33}, []int{0}, nil, []int{1}, nil},
		{"vector", []int{65}, []int{65, 3}, []int{0}, nil, []int{0}, nil},
		{"batch in the middle", []int{7, 3, 4, 5}, []int{5, 3, 2, 7}, []int{3, 0}, []int{1},
			[]int{0, 3}, []int{1}},
		{"two batch axes", []int{2, 3, 9, 4}, []int{3, 2, 4, 6}, []int{3}, []int{0, 1},
			[]int{2}, []int{1, 0}},
		{"large", []int{130, 300}, []int{300, 70}, []int{1}, nil, []int{0}, nil},
	}
	for _, v := range kernelVariants() {
		for i, tc := range cases {
			t.Run(v.name+"/"+tc.name, func(t *testing.T) {
				lhs, rhs := randomArray(uint64(500+i), tc.lhs...), randomArray(uint64(600+i),
					tc.rhs...)
				fn := func(a, b *Node) *Node {
					return DotGeneral(a, tc.lhsC, tc.lhsB, b, tc.rhsC, tc.rhsB)
				}
				want := run(t, goBackend(), fn, lhs.tensor64(), rhs.tensor64())[0]
				v.wrap(func() {
					got := run(t, cpuBackend(), fn, lhs.tensor64(), rhs.tensor64())[0]
					assertClose(t, "float64", got, want, 1e-12)
					got = run(t, cpuBackend(), fn, lhs.tensor32(), rhs.tensor32())[0]
					assertClose(t, "float32", got, want, 1e-4)
				})
			})
		}
	}
}

func TestTransposeIntoMatchesReference(t *testing.T) {
	cases := []struct{ dims, perm []int }{
		{[]int{3, 5}, []int{1, 0}},
		{[]int{2, 3, 4, 5}, []int{0, 2, 3, 1}},
		{[]int{2, 1, 4, 5}, []int{3, 1, 0, 2}},
		{[]int{300, 257}, []int{1, 0}},
		{[]int{4, 5, 6}, []int{0, 1, 2}},
		// Tiled: the source's contiguous axis moves away from the end.
		{[]int{16, 9, 10, 19}, []int{3, 1, 2, 0}},
		{[]int{5, 37, 41}, []int{2, 1, 0}},
		{[]int{3, 20, 7, 33}, []int{0, 3, 2, 1}},
		{[]int{70, 300}, []int{1, 0}},
		{[]int{2, 6, 4}, []int{2, 0, 1}},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprint(tc.dims, tc.perm), func(t *testing.T) {
			x := randomArray(7, tc.dims...)
			got := &array{dims: permutedDims(tc.dims, tc.perm), data: make([]float64,
				len(x.data))}
			transposeInto(got.data, x.data, tc.dims, tc.perm)
			want := newArray(got.dims...)
			forEach(tc.dims, func(idx []int) {
				to := make([]int, len(idx))
				for i, a := range tc.perm {
					to[i] = idx[a]
				}
				want.data[want.index(to)] = x.data[x.index(idx)]
			})
			assertClose(t, "transpose", got, want, 0)
		})
	}
}

func TestReverseKernelOnFloat32(t *testing.T) {
	x := randomArray(5, 3, 4, 7)
	got := run(t, cpuBackend(), func(x *Node) *Node { return Reverse(x, 2, 0) },
		x.tensor32())[0]
	want := run(t, composedBackend(), func(x *Node) *Node { return Reverse(x, 2, 0) },
		x.tensor32())[0]
	assertClose(t, "Reverse", got, want, 0)
}

func TestReduceKernelsMatchSimpleGo(t *testing.T) {
	x := randomArray(701, 3, 1, 5, 7, 2)
	cases := []struct {
		name string
		fn   func(x *Node) *Node
	}{
		{"sum all", func(x *Node) *Node { return ReduceAllSum(x) }},
		{"sum leading", func(x *Node) *Node { return ReduceSum(x, 0, 1, 2) }},
		{"sum trailing", func(x *Node) *Node { return ReduceSum(x, 3, 4) }},
		{"sum alternating", func(x *Node) *Node { return ReduceSum(x, 0, 3) }},
		{"max middle", func(x *Node) *Node { return ReduceMax(x, 2) }},
		{"min two", func(x *Node) *Node { return ReduceMin(x, 4, 0) }},
		{"sum size-one axis", func(x *Node) *Node { return ReduceSum(x, 1) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			want := run(t, goBackend(), tc.fn, x.tensor64())[0]
			got := run(t, cpuBackend(), tc.fn, x.tensor64())[0]
			assertClose(t, tc.name, got, want, 1e-12)
		})
	}
	t.Run("large, cut over cores", func(t *testing.T) {
		big := randomArray(702, 64, 33, 40)
		for _, axes := range [][]int{{0, 1}, {1, 2}, {0}, {2}} {
			fn := func(x *Node) *Node { return ReduceSum(x, axes...) }
			want := run(t, goBackend(), fn, big.tensor64())[0]
			got := run(t, cpuBackend(), fn, big.tensor64())[0]
			assertClose(t, fmt.Sprint(axes), got, want, 1e-12)
			fn = func(x *Node) *Node { return ReduceMax(x, axes...) }
			want = run(t, goBackend(), fn, big.tensor32())[0]
			got = run(t, cpuBackend(), fn, big.tensor32())[0]
			assertClose(t, fmt.Sprint("max", axes), got, want, 0)
		}
	})
}

// TestPoolingKernelsMatchComposition compares pooling and its gradients (ReduceWindow and
// SelectAndScatter kernels) with the composed path on windows that overlap, pad and leave
// the edges out.
func TestPoolingKernelsMatchComposition(t *testing.T) {
	x := randomArray(711, 3, 7, 9, 5)
	cases := []struct {
		name string
		fn   func(x *Node) *Node
	}{
		{"max 2x2", func(x *Node) *Node { return MaxPool(x).Window(2).Done() }},
		{"max 3x3 stride 2 same", func(x *Node) *Node {
			return MaxPool(x).Window(3).Strides(2).PadSame().Done()
		}},
		{"max 2x3 stride 1", func(x *Node) *Node {
			return MaxPool(x).WindowPerAxis(2, 3).Strides(1).Done()
		}},
		{"min 2x2", func(x *Node) *Node {
			return BackendReduceWindow(x, backends.ReduceOpMin, []int{1, 2, 2, 1},
				[]int{1, 2, 2, 1}, nil, nil, nil)
		}},
		{"sum 3x3 same", func(x *Node) *Node { return SumPool(x).Window(3).PadSame().Done() }},
		{"mean 2x2", func(x *Node) *Node { return MeanPool(x).Window(2).Done() }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fn := func(x *Node) []*Node {
				y := tc.fn(x)
				return append([]*Node{y}, Gradient(weightedSum(y), x)...)
			}
			want := run(t, composedBackend(), fn, x.tensor64())
			got := run(t, cpuBackend(), fn, x.tensor64())
			for i := range want {
				assertClose(t, fmt.Sprintf("output %d", i), got[i], want[i], 1e-12)
			}
		})
	}
}

func TestSliceAndConcatenateKernelsMatchSimpleGo(t *testing.T) {
	x, y := randomArray(901, 3, 7, 5, 4), randomArray(902, 3, 7, 2, 4)
	cases := []struct {
		name string
		fn   func(x, y *Node) *Node
	}{
		{"slice middle", func(x, _ *Node) *Node {
			return Slice(x, AxisRange(1, 3), AxisRange(2, 7).Stride(2), AxisRange(), AxisRange(1))
		}},
		{"slice last strided", func(x, _ *Node) *Node {
			return Slice(x, AxisRange(), AxisRange(), AxisRange(4), AxisRange(0, 4).Stride(3))
		}},
		{"concat axis 2", func(x, y *Node) *Node { return Concatenate([]*Node{x, y, x}, 2) }},
		{"concat axis 0", func(x, _ *Node) *Node { return Concatenate([]*Node{x, x}, 0) }},
		{"concat last", func(x, y *Node) *Node {
			return Concatenate([]*Node{x, Slice(x, AxisRange(), AxisRange(), AxisRange(),
				AxisRange(1, 2))}, 3)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, f32 := range []bool{false, true} {
				args := func() []any {
					if f32 {
						return []any{x.tensor32(), y.tensor32()}
					}
					return []any{x.tensor64(), y.tensor64()}
				}
				want := run(t, goBackend(), tc.fn, args()...)[0]
				got := run(t, cpuBackend(), tc.fn, args()...)[0]
				assertClose(t, tc.name, got, want, 0)
			}
		})
	}
}

func TestTransposeKernelMatchesSimpleGo(t *testing.T) {
	x := randomArray(911, 3, 4, 5, 2, 6)
	for _, perm := range [][]int{{0, 1, 3, 2, 4}, {4, 3, 2, 1, 0}, {0, 1, 2, 3, 4},
		{1, 0, 4, 2, 3}} {
		fn := func(x *Node) *Node { return TransposeAllAxes(x, perm...) }
		want := run(t, goBackend(), fn, x.tensor32())[0]
		got := run(t, cpuBackend(), fn, x.tensor32())[0]
		assertClose(t, fmt.Sprint(perm), got, want, 0)
	}
}

// TestConvKernelOtherSpatialRanks covers one and three spatial axes (the generic patch
// packer), against SimpleGo's own convolution, with their gradients against the composition.
func TestConvKernelOtherSpatialRanks(t *testing.T) {
	cases := []struct {
		name string
		x, k *array
		fn   func(x, k *Node) *Node
	}{
		{"1D strided", randomArray(921, 2, 11, 3), randomArray(922, 3, 3, 4),
			func(x, k *Node) *Node {
				return Convolve(x, k).PadSame().StridePerAxis(2).DilationPerAxis(1).Done()
			}},
		{"3D", randomArray(923, 2, 5, 4, 6, 2), randomArray(924, 3, 1, 3, 2, 3),
			func(x, k *Node) *Node {
				return Convolve(x, k).PadSame().StridePerAxis(1, 1, 1).
					DilationPerAxis(1, 1, 1).Done()
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			want := run(t, goBackend(), tc.fn, tc.x.tensor64(), tc.k.tensor64())[0]
			got := run(t, cpuBackend(), tc.fn, tc.x.tensor64(), tc.k.tensor64())[0]
			assertClose(t, "output", got, want, 1e-12)
			grads := func(x, k *Node) []*Node {
				return Gradient(weightedSum(tc.fn(x, k)), x, k)
			}
			wantG := run(t, composedBackend(), grads, tc.x.tensor64(), tc.k.tensor64())
			gotG := run(t, cpuBackend(), grads, tc.x.tensor64(), tc.k.tensor64())
			for i := range wantG {
				assertClose(t, fmt.Sprint("gradient ", i), gotG[i], wantG[i], 1e-12)
			}
		})
	}
}

// TestDirectConvolutionIsChosen checks which convolutions read their input in place.
func TestDirectConvolutionIsChosen(t *testing.T) {
	axes := backends.ConvolveAxesConfig{InputBatch: 0, InputSpatial: []int{1, 2},
		InputChannels: 3, KernelSpatial: []int{0, 1}, KernelInputChannels: 2,
		KernelOutputChannels: 3, OutputBatch: 0, OutputSpatial: []int{1, 2}, OutputChannels: 3}
	same := convParams{axes: axes, strides: []int{1, 1}, paddings: [][2]int{{1, 1}, {1, 1}},
		inputDilations: []int{1, 1}, kernelDilations: []int{1, 1}}
	dilated := same
	dilated.inputDilations = []int{2, 2}
	cases := []struct {
		name   string
		x      []int
		p      convParams
		direct bool
	}{
		{"3x3 on 16 channels", []int{4, 12, 12, 16}, same, true},
		{"3 channels", []int{4, 12, 12, 3}, same, false},
		{"input dilation", []int{4, 12, 12, 16}, dilated, false},
		{"narrow output", []int{4, 12, 4, 16}, same, false},
	}
	for _, c := range cases {
		in := shapes.Make(dtypes.Float32, c.x...)
		k := shapes.Make(dtypes.Float32, 3, 3, c.x[3], 8)
		op, err := newConvOp[float32](in, k, c.p, nil)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if op.direct != c.direct {
			t.Errorf("%s: direct = %v, want %v", c.name, op.direct, c.direct)
		}
	}
}
