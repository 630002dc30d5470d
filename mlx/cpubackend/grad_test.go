package cpubackend

import (
	"fmt"
	"testing"

	"github.com/gomlx/gomlx/backends"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/core/tensors/images"
)

// weightedSum reduces y to a scalar with fixed, position-dependent weights, so that every
// output value matters differently to the loss.
func weightedSum(y *Node) *Node {
	w := Cos(AddScalar(MulScalar(IotaFull(y.Graph(), y.Shape()), 0.7), 0.3))
	return ReduceAllSum(Mul(y, w))
}

// checkGradient compares GoMLX's gradient of weightedSum(fn(inputs...)) on the cpu backend
// with central finite differences, element by element, in float64.
func checkGradient(t *testing.T, fn func(xs []*Node) *Node, inputs ...*array) {
	t.Helper()
	backend := cpuBackend()
	gradExec, err := NewExec(backend, func(xs []*Node) []*Node {
		loss := weightedSum(fn(xs))
		return append([]*Node{loss}, Gradient(loss, xs...)...)
	})
	if err != nil {
		t.Fatalf("NewExec: %v", err)
	}
	defer gradExec.Finalize()
	lossExec, err := NewExec(backend, func(xs []*Node) *Node { return weightedSum(fn(xs)) })
	if err != nil {
		t.Fatalf("NewExec: %v", err)
	}
	defer lossExec.Finalize()

	args := func(xs []*array) []any {
		res := make([]any, len(xs))
		for i, x := range xs {
			res[i] = x.tensor64()
		}
		return res
	}
	outs, err := gradExec.Exec(args(inputs)...)
	if err != nil {
		t.Fatalf("gradient: %v", err)
	}
	loss := func(xs []*array) float64 {
		out, err := lossExec.Exec1(args(xs)...)
		if err != nil {
			t.Fatalf("loss: %v", err)
		}
		return tensors.ToScalar[float64](out)
	}

	const h = 1e-5
	for i, x := range inputs {
		analytic := arrayOf(t, outs[1+i])
		numeric := newArray(x.dims...)
		for j := range x.data {
			perturbed := make([]*array, len(inputs))
			copy(perturbed, inputs)
			p := &array{dims: x.dims, data: append([]float64(nil), x.data...)}
			perturbed[i] = p
			p.data[j] = x.data[j] + h
			up := loss(perturbed)
			p.data[j] = x.data[j] - h
			down := loss(perturbed)
			numeric.data[j] = (up - down) / (2 * h)
		}
		assertClose(t, fmt.Sprintf("gradient of input #%d", i), analytic, numeric, 1e-6)
	}
}

func TestConvolutionGradients(t *testing.T) {
	for i, s := range convSpecs {
		if s.inputDilations != [2]int{1, 1} {
			continue // GoMLX defines no gradient for input dilation.
		}
		if s.k[0]%2 == 0 || s.k[1]%2 == 0 {
			// GoMLX v0.26.0 pads the reverse convolution of its input gradient one short at the
			// start for even kernel sizes, on every backend: skip, see the package doc.
			continue
		}
		t.Run(s.name, func(t *testing.T) {
			checkGradient(t, func(xs []*Node) *Node { return convGraph(s, false)(xs[0], xs[1]) },
				randomArray(uint64(60+i), s.x...), randomArray(uint64(70+i), s.k...))
		})
	}
	t.Run("same strided", func(t *testing.T) {
		checkGradient(t, func(xs []*Node) *Node {
			return Convolve(xs[0], xs[1]).PadSame().Strides(2).Done()
		}, randomArray(81, 2, 7, 6, 2), randomArray(82, 3, 3, 2, 3))
	})
	t.Run("channels first dilated", func(t *testing.T) {
		checkGradient(t, func(xs []*Node) *Node {
			return Convolve(xs[0], xs[1]).ChannelsAxis(images.ChannelsFirst).PadSame().
				Dilations(2).Done()
		}, randomArray(83, 2, 2, 6, 5), randomArray(84, 3, 2, 3, 3))
	})
	t.Run("channel groups", func(t *testing.T) {
		checkGradient(t, func(xs []*Node) *Node {
			return Convolve(xs[0], xs[1]).PadSame().ChannelGroupCount(2).Done()
		}, randomArray(85, 1, 4, 4, 4), randomArray(86, 3, 3, 2, 4))
	})
}

func TestPoolingGradients(t *testing.T) {
	x := randomArray(91, 2, 6, 7, 3)
	cases := []struct {
		name string
		fn   func(x *Node) *Node
	}{
		{"max 2x2", func(x *Node) *Node { return MaxPool(x).Window(2).Done() }},
		{"max 3x3 stride 2 same", func(x *Node) *Node {
			return MaxPool(x).Window(3).Strides(2).PadSame().Done()
		}},
		{"max 2x2 stride 1", func(x *Node) *Node { return MaxPool(x).Window(2).Strides(1).Done() }},
		{"min 2x2 via reduce window", func(x *Node) *Node {
			return BackendReduceWindow(x, backends.ReduceOpMin, []int{1, 2, 2, 1},
				[]int{1, 2, 2, 1}, nil, nil, nil)
		}},
		{"sum 2x2", func(x *Node) *Node { return SumPool(x).Window(2).Done() }},
		{"mean 3x3 same", func(x *Node) *Node { return MeanPool(x).Window(3).PadSame().Done() }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			checkGradient(t, func(xs []*Node) *Node { return tc.fn(xs[0]) }, x)
		})
	}
}

func TestBatchNormTrainingGradient(t *testing.T) {
	x := randomArray(101, 3, 4, 2, 3)
	scale, offset := randomArray(102, 3), randomArray(103, 3)
	for i := range scale.data {
		scale.data[i] += 1.5
	}
	for _, axis := range []int{3, 1} {
		t.Run(fmt.Sprintf("feature axis %d", axis), func(t *testing.T) {
			sc, of := scale, offset
			if axis == 1 {
				sc, of = randomArray(104, 4), randomArray(105, 4)
			}
			checkGradient(t, func(xs []*Node) *Node {
				y, _, _ := InternalBatchNormForTraining(xs[0], xs[1], xs[2], 1e-3, axis)
				return y
			}, x, sc, of)
		})
	}
}

func TestSliceConcatenateGradients(t *testing.T) {
	x, y := randomArray(111, 3, 7, 2), randomArray(112, 3, 2, 2)
	checkGradient(t, func(xs []*Node) *Node {
		strided := Slice(xs[0], AxisRange(), AxisRange(1, 7).Stride(2), AxisRange())
		return Concatenate([]*Node{strided, xs[1], Slice(xs[0], AxisRange(), AxisRange(5))}, 1)
	}, x, y)
}

// zeroInsertUpsample doubles the spatial size of x [b, h, w, c] by inserting zeros after
// every value, with Concatenate and Reshape only (both have gradients in GoMLX).
func zeroInsertUpsample(x *Node) *Node {
	dims := x.Shape().Dimensions
	b, h, w, c := dims[0], dims[1], dims[2], dims[3]
	v := Reshape(x, b, h, 1, w, 1, c)
	zeros := ZerosLike(v)
	row := Concatenate([]*Node{v, zeros}, 4)             // [b, h, 1, w, 2, c]
	full := Concatenate([]*Node{row, ZerosLike(row)}, 2) // [b, h, 2, w, 2, c]
	return Reshape(full, b, 2*h, 2*w, c)
}

// depthToSpace turns x [b, h, w, 4c] into [b, 2h, 2w, c].
func depthToSpace(x *Node) *Node {
	dims := x.Shape().Dimensions
	b, h, w, c := dims[0], dims[1], dims[2], dims[3]/4
	y := Reshape(x, b, h, w, 2, 2, c)
	y = TransposeAllAxes(y, 0, 1, 3, 2, 4, 5)
	return Reshape(y, b, 2*h, 2*w, c)
}

func TestUpsamplingGradients(t *testing.T) {
	t.Run("zero insertion then conv", func(t *testing.T) {
		checkGradient(t, func(xs []*Node) *Node {
			return Convolve(zeroInsertUpsample(xs[0]), xs[1]).PadSame().Done()
		}, randomArray(121, 2, 3, 3, 2), randomArray(122, 3, 3, 2, 2))
	})
	t.Run("conv then depth to space", func(t *testing.T) {
		checkGradient(t, func(xs []*Node) *Node {
			return depthToSpace(Convolve(xs[0], xs[1]).PadSame().Done())
		}, randomArray(123, 2, 3, 3, 2), randomArray(124, 3, 3, 2, 8))
	})
}
