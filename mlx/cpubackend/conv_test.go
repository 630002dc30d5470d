package cpubackend

import (
	"runtime"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors/images"
)

// convSpec describes a 2D convolution on x [batch, h, w, in] with kernel [kh, kw, in, out].
type convSpec struct {
	name            string
	x, k            []int
	strides         [2]int
	pads            [2][2]int
	inputDilations  [2]int
	kernelDilations [2]int
}

// convReference computes the convolution of convSpec directly.
func convReference(x, k *array, s convSpec) *array {
	b, h, w, in := x.dims[0], x.dims[1], x.dims[2], x.dims[3]
	kh, kw, out := k.dims[0], k.dims[1], k.dims[3]
	size := func(n, kn, axis int) int {
		dilated := (n-1)*s.inputDilations[axis] + 1 + s.pads[axis][0] + s.pads[axis][1]
		span := (kn-1)*s.kernelDilations[axis] + 1
		return (dilated-span)/s.strides[axis] + 1
	}
	oh, ow := size(h, kh, 0), size(w, kw, 1)
	res := newArray(b, oh, ow, out)
	// at returns the dilated, padded input value at (y, x) or 0.
	at := func(bi, y, xx, ci int) float64 {
		y -= s.pads[0][0]
		xx -= s.pads[1][0]
		if y < 0 || xx < 0 || y%s.inputDilations[0] != 0 || xx%s.inputDilations[1] != 0 {
			return 0
		}
		y /= s.inputDilations[0]
		xx /= s.inputDilations[1]
		if y >= h || xx >= w {
			return 0
		}
		return x.data[x.index([]int{bi, y, xx, ci})]
	}
	forEach(res.dims, func(idx []int) {
		sum := 0.0
		for ky := range kh {
			for kx := range kw {
				for ci := range in {
					v := at(idx[0], idx[1]*s.strides[0]+ky*s.kernelDilations[0],
						idx[2]*s.strides[1]+kx*s.kernelDilations[1], ci)
					sum += v * k.data[k.index([]int{ky, kx, ci, idx[3]})]
				}
			}
		}
		res.data[res.index(idx)] = sum
	})
	return res
}

// convGraph builds the convolution of convSpec with GoMLX's Convolve. Strides of 1 are left
// nil unless explicitStrides (SimpleGo's own convolution rejects nil strides and crashes on
// nil kernel dilations in some layouts), which also sets the kernel dilations.
func convGraph(s convSpec, explicitStrides bool) func(x, k *Node) *Node {
	return func(x, k *Node) *Node {
		conv := Convolve(x, k).PaddingPerDim([][2]int{s.pads[0], s.pads[1]})
		if s.strides != [2]int{1, 1} || explicitStrides {
			conv.StridePerAxis(s.strides[0], s.strides[1])
		}
		if s.kernelDilations != [2]int{1, 1} || explicitStrides {
			conv.DilationPerAxis(s.kernelDilations[0], s.kernelDilations[1])
		}
		if s.inputDilations != [2]int{1, 1} {
			conv.InputDilationPerAxis(s.inputDilations[0], s.inputDilations[1])
		}
		return conv.Done()
	}
}

var convSpecs = []convSpec{
	{name: "3x3 same", x: []int{2, 6, 5, 3}, k: []int{3, 3, 3, 4},
		strides: [2]int{1, 1}, pads: [2][2]int{{1, 1}, {1, 1}},
		inputDilations: [2]int{1, 1}, kernelDilations: [2]int{1, 1}},
	{name: "valid strided", x: []int{2, 7, 8, 2}, k: []int{3, 2, 2, 3},
		strides: [2]int{2, 3}, inputDilations: [2]int{1, 1}, kernelDilations: [2]int{1, 1}},
	{name: "kernel dilation", x: []int{1, 9, 8, 2}, k: []int{3, 3, 2, 2},
		strides: [2]int{1, 1}, pads: [2][2]int{{2, 2}, {1, 3}},
		inputDilations: [2]int{1, 1}, kernelDilations: [2]int{2, 2}},
	{name: "input dilation", x: []int{2, 4, 3, 2}, k: []int{3, 3, 2, 3},
		strides: [2]int{1, 1}, pads: [2][2]int{{1, 2}, {2, 1}},
		inputDilations: [2]int{2, 3}, kernelDilations: [2]int{1, 1}},
	{name: "1x1", x: []int{3, 4, 4, 5}, k: []int{1, 1, 5, 2},
		strides: [2]int{1, 1}, inputDilations: [2]int{1, 1}, kernelDilations: [2]int{1, 1}},
	{name: "large kernel small output", x: []int{2, 6, 6, 2}, k: []int{5, 4, 2, 3},
		strides: [2]int{1, 1}, pads: [2][2]int{{0, 0}, {0, -1}},
		inputDilations: [2]int{1, 1}, kernelDilations: [2]int{1, 1}},
	{name: "odd kernels negative padding", x: []int{2, 7, 6, 2}, k: []int{5, 3, 2, 3},
		strides: [2]int{2, 1}, pads: [2][2]int{{-1, 1}, {0, -1}},
		inputDilations: [2]int{1, 1}, kernelDilations: [2]int{1, 1}},
	{name: "strided odd kernels", x: []int{2, 7, 8, 2}, k: []int{3, 3, 2, 3},
		strides: [2]int{2, 3}, pads: [2][2]int{{1, 0}, {0, 2}},
		inputDilations: [2]int{1, 1}, kernelDilations: [2]int{1, 1}},
}

func TestConvGeneralMatchesReference(t *testing.T) {
	for i, s := range convSpecs {
		t.Run(s.name, func(t *testing.T) {
			x, k := randomArray(uint64(10+i), s.x...), randomArray(uint64(20+i), s.k...)
			want := convReference(x, k, s)
			got := run(t, cpuBackend(), convGraph(s, false), x.tensor64(), k.tensor64())[0]
			assertClose(t, "cpu conv", got, want, 1e-12)
		})
	}
}

// TestConvGeneralMatchesSimpleGo compares with SimpleGo's own convolution, skipping input
// dilation without kernel dilation (which crashes SimpleGo).
func TestConvGeneralMatchesSimpleGo(t *testing.T) {
	for i, s := range convSpecs {
		if s.inputDilations != [2]int{1, 1} {
			continue
		}
		t.Run(s.name, func(t *testing.T) {
			x, k := randomArray(uint64(30+i), s.x...), randomArray(uint64(40+i), s.k...)
			want := run(t, goBackend(), convGraph(s, true), x.tensor32(), k.tensor32())[0]
			got := run(t, cpuBackend(), convGraph(s, false), x.tensor32(), k.tensor32())[0]
			assertClose(t, "cpu vs go conv", got, want, 1e-5)
		})
	}
}

func TestConvGeneralChannelsFirstAndGroups(t *testing.T) {
	cases := []struct {
		name string
		fn   func(x, k *Node) *Node
		x, k *array
	}{
		// Channels first: x [batch, in, h, w], kernel [out, in, kh, kw].
		{"channels first", func(x, k *Node) *Node {
			return Convolve(x, k).ChannelsAxis(images.ChannelsFirst).PadSame().
				StridePerAxis(1, 1).DilationPerAxis(1, 1).Done()
		}, randomArray(53, 2, 4, 5, 6), randomArray(54, 3, 4, 3, 3)},
		{"channel groups", func(x, k *Node) *Node {
			return Convolve(x, k).PadSame().StridePerAxis(1, 1).DilationPerAxis(1, 1).
				ChannelGroupCount(3).Done()
		}, randomArray(51, 2, 4, 5, 6), randomArray(52, 3, 3, 2, 6)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			want := run(t, goBackend(), tc.fn, tc.x.tensor32(), tc.k.tensor32())[0]
			got := run(t, cpuBackend(), tc.fn, tc.x.tensor32(), tc.k.tensor32())[0]
			assertClose(t, tc.name, got, want, 1e-5)
		})
	}
}

// TestNativeConvOptionTrainsTheSameGraph checks that "conv=native" (SimpleGo's loop, used as
// the benchmark's baseline) computes the same convolution gradients as the default.
func TestNativeConvOptionTrainsTheSameGraph(t *testing.T) {
	native, err := NewBackend("conv=native")
	if err != nil {
		t.Fatal(err)
	}
	defer native.Finalize()
	x, k := randomArray(131, 2, 6, 6, 2), randomArray(132, 3, 3, 2, 3)
	fn := func(x, k *Node) []*Node {
		loss := weightedSum(Convolve(x, k).PadSame().Strides(2).Done())
		return Gradient(loss, x, k)
	}
	want := run(t, cpuBackend(), fn, x.tensor64(), k.tensor64())
	got := run(t, native, fn, x.tensor64(), k.tensor64())
	for i := range want {
		assertClose(t, "gradient", got[i], want[i], 1e-12)
	}
}

// TestSplitContractionKernelGradient checks the kernel gradient when its matrix product is
// cut across cores (see contractionSplit), against SimpleGo's convolution loop.
func TestSplitContractionKernelGradient(t *testing.T) {
	if runtime.GOMAXPROCS(0) < 2 {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	}
	const batch, size, channels = 64, 16, 4
	if s := contractionSplit(dtypes.Float64, channels*9*channels, size*size*batch, batch); s < 2 {
		t.Fatalf("contractionSplit = %d, want a split for this kernel gradient", s)
	}
	native, err := NewBackend("conv=native")
	if err != nil {
		t.Fatal(err)
	}
	defer native.Finalize()
	x := randomArray(141, batch, size, size, channels)
	k := randomArray(142, 3, 3, channels, channels)
	fn := func(x, k *Node) []*Node {
		loss := weightedSum(Convolve(x, k).PadSame().Done())
		return Gradient(loss, x, k)
	}
	want := run(t, native, fn, x.tensor64(), k.tensor64())
	got := run(t, cpuBackend(), fn, x.tensor64(), k.tensor64())
	for i := range want {
		assertClose(t, "gradient", got[i], want[i], 1e-10)
	}
}

// TestSplitContractionForward covers the split with one patch per kernel position: a
// convolution with many input channels and a tiny output.
func TestSplitContractionForward(t *testing.T) {
	if runtime.GOMAXPROCS(0) < 2 {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	}
	s := convSpec{name: "many channels", x: []int{1, 6, 6, 256}, k: []int{3, 3, 256, 2},
		strides: [2]int{1, 1}, pads: [2][2]int{{1, 1}, {1, 1}},
		inputDilations: [2]int{1, 1}, kernelDilations: [2]int{1, 1}}
	if split := contractionSplit(dtypes.Float64, 36*2, 9*256, 256); split < 2 {
		t.Fatalf("contractionSplit = %d, want a split", split)
	}
	x, k := randomArray(151, s.x...), randomArray(152, s.k...)
	got := run(t, cpuBackend(), convGraph(s, false), x.tensor64(), k.tensor64())[0]
	assertClose(t, "split conv", got, convReference(x, k, s), 1e-12)
}
