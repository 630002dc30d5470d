package cpubackend

import (
	"runtime"
	"slices"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/shapeinference"
	"github.com/gomlx/gomlx/backends/simplego"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
)

// ConvGeneral is a general convolution (any axes layout, strides, paddings, input and kernel
// dilations, channel or batch groups; groups are split, convolved and joined). Float32 and
// float64 convolutions run on the convolution kernel (see convKernel); other dtypes, and
// every convolution with kernels=off, are composed as im2col plus one matrix product:
//
//  1. input and kernel are transposed to [batch, spatial..., channels] and
//     [spatial..., in, out];
//  2. input dilation (zero insertion) and padding are applied with Pad;
//  3. the patches (every kernel position at every output position) are gathered with
//     strided Slices, one per kernel position or one per output position, whichever is fewer
//     (the gradient with respect to the kernel is a convolution with a large "kernel" and a
//     small output), and stacked with one Concatenate;
//  4. one DotGeneral contracts the patches with the kernel, and the result is transposed to
//     the requested output layout.
//
// Nil strides, paddings and dilations mean 1, 0 and 1.
func (b *Builder) ConvGeneral(input, kernel backends.Op, axes backends.ConvolveAxesConfig,
	strides []int, paddings [][2]int, inputDilations, kernelDilations []int,
	channelGroupCount, batchGroupCount int) (backends.Op, error) {
	c := newComposer(b.Builder, "ConvGeneral")
	inShape, kShape := c.shape(input), c.shape(kernel)
	if c.err != nil {
		return nil, c.err
	}
	spatialRank := inShape.Rank() - 2
	if spatialRank < 0 {
		c.failf("input must have rank >= 2, got %s", inShape)
		return nil, c.err
	}
	p := convParams{
		axes:            axes,
		strides:         defaultInts(strides, spatialRank, 1),
		paddings:        paddings,
		inputDilations:  defaultInts(inputDilations, spatialRank, 1),
		kernelDilations: defaultInts(kernelDilations, spatialRank, 1),
	}
	if p.paddings == nil {
		p.paddings = make([][2]int, spatialRank)
	}
	channelGroupCount = max(channelGroupCount, 1)
	batchGroupCount = max(batchGroupCount, 1)
	if b.backend.nativeConv {
		// SimpleGo's loop, with every parameter spelled out (it misreads nil strides and
		// crashes on nil kernel dilations).
		return b.Builder.ConvGeneral(input, kernel, axes, p.strides, p.paddings,
			p.inputDilations, p.kernelDilations, channelGroupCount, batchGroupCount)
	}
	outShape, err := shapeinference.ConvGeneralOp(inShape, kShape, axes, p.strides, p.paddings,
		p.inputDilations, p.kernelDilations, channelGroupCount, batchGroupCount)
	if !c.check("shape", err) {
		return nil, c.err
	}

	c.kernels = b.backend.kernelsFor(inShape.DType) && spatialRank >= 1 &&
		spatialRank <= maxConvSpatial && inShape.Size() > 0 && kShape.Size() > 0 &&
		outShape.Size() > 0
	var out backends.Op
	switch {
	case channelGroupCount > 1:
		out = c.convGrouped(input, kernel, p, axes.InputChannels, channelGroupCount)
	case batchGroupCount > 1:
		out = c.convGrouped(input, kernel, p, axes.InputBatch, batchGroupCount)
	default:
		out = c.conv(input, kernel, p)
	}
	if c.err == nil && !slices.Equal(c.shape(out).Dimensions, outShape.Dimensions) {
		c.failf("composed output shape %s, expected %s", c.shape(out), outShape)
	}
	return c.result(out, input, kernel)
}

// convParams holds the normalised parameters of a convolution.
type convParams struct {
	axes            backends.ConvolveAxesConfig
	strides         []int
	paddings        [][2]int
	inputDilations  []int
	kernelDilations []int
}

// defaultInts returns values, or n copies of def when values is empty.
func defaultInts(values []int, n, def int) []int {
	if len(values) == 0 {
		s := make([]int, n)
		for i := range s {
			s[i] = def
		}
		return s
	}
	return slices.Clone(values)
}

// convGrouped splits the input along inputAxis (channels for channel groups, batch for batch
// groups) and the kernel along its output channels into groups, convolves each pair and
// joins the results along the output channels.
func (c *composer) convGrouped(input, kernel backends.Op, p convParams, inputAxis,
	groups int) backends.Op {
	inDims, kDims := c.dims(input), c.dims(kernel)
	if c.err != nil {
		return nil
	}
	inStep := inDims[inputAxis] / groups
	kAxis := p.axes.KernelOutputChannels
	kStep := kDims[kAxis] / groups
	parts := make([]backends.Op, groups)
	for g := range groups {
		x := c.sliceAxis(input, inputAxis, g*inStep, (g+1)*inStep)
		k := c.sliceAxis(kernel, kAxis, g*kStep, (g+1)*kStep)
		parts[g] = c.conv(x, k, p)
	}
	return c.concat(p.axes.OutputChannels, parts...)
}

// conv is the ungrouped convolution, see ConvGeneral.
func (c *composer) conv(input, kernel backends.Op, p convParams) backends.Op {
	if c.kernels {
		return c.convKernel(input, kernel, p)
	}
	axes := p.axes
	n := len(axes.InputSpatial)
	inShape := c.shape(input)
	kInDims := c.dims(kernel)
	if c.err != nil {
		return nil
	}
	inDims := inShape.Dimensions

	// Sizes: output spatial dims from the dilated, padded input.
	batch, inCh := inDims[axes.InputBatch], inDims[axes.InputChannels]
	outCh := kInDims[axes.KernelOutputChannels]
	kSpatial := make([]int, n)
	outSpatial := make([]int, n)
	for i := range n {
		kSpatial[i] = kInDims[axes.KernelSpatial[i]]
		padded := (inDims[axes.InputSpatial[i]]-1)*p.inputDilations[i] + 1 +
			p.paddings[i][0] + p.paddings[i][1]
		span := (kSpatial[i]-1)*p.kernelDilations[i] + 1
		if padded < span {
			c.failf("spatial axis %d: padded input size %d smaller than kernel span %d",
				i, padded, span)
			return nil
		}
		outSpatial[i] = (padded-span)/p.strides[i] + 1
	}
	numK, numOut := product(kSpatial), product(outSpatial)
	split := contractionSplit(inShape.DType, batch*numOut*outCh, numK*inCh, inCh)

	// 1. Canonical layouts: x [split?, batch, spatial..., in/split], k [spatial..., in, out]
	// (with in as [split, in/split] when split).
	x, lead := input, 0
	xPerm := append(append([]int{axes.InputBatch}, axes.InputSpatial...), axes.InputChannels)
	if split > 1 {
		// Split the channels axis into [split, in/split] and move split to the front.
		a := axes.InputChannels
		splitDims := slices.Insert(slices.Clone(inDims), a, split)
		splitDims[a+1] = inCh / split
		x = c.reshape(x, splitDims...)
		shift := func(axis int) int {
			if axis > a {
				return axis + 1
			}
			return axis
		}
		xPerm = []int{a, shift(axes.InputBatch)}
		for _, s := range axes.InputSpatial {
			xPerm = append(xPerm, shift(s))
		}
		xPerm = append(xPerm, a+1)
		lead = 1
	}
	x = c.transpose(x, xPerm...)
	kPerm := append(slices.Clone(axes.KernelSpatial), axes.KernelInputChannels,
		axes.KernelOutputChannels)
	k := c.transpose(kernel, kPerm...)
	kDims := c.dims(k)
	xShape := c.shape(x)
	if c.err != nil {
		return nil
	}

	// 2. Input dilation and padding.
	padConfig := make([]backends.PadAxis, xShape.Rank())
	needPad := false
	for i := range n {
		padConfig[lead+1+i] = backends.PadAxis{
			Start:    p.paddings[i][0],
			End:      p.paddings[i][1],
			Interior: p.inputDilations[i] - 1,
		}
		needPad = needPad || padConfig[lead+1+i] != backends.PadAxis{}
	}
	if needPad {
		x = c.pad(x, c.zeroOf(xShape.DType), padConfig)
	}

	// 3.+4. Patches and one matrix product.
	var out backends.Op
	var lhsBatch, rhsBatch []int
	if split > 1 {
		lhsBatch = []int{0}
	}
	if numK <= numOut {
		// patches [split?, K, batch, out..., in'] x kernel [K, split?, in', outCh]
		patches := c.patchesPerKernelPosition(x, lead, outSpatial, kSpatial, p)
		kFlat := c.reshape(k, numK, kDims[n], kDims[n+1])
		rhsContract := []int{0, 1}
		if split > 1 {
			kFlat = c.reshape(k, numK, split, inCh/split, outCh)
			rhsBatch, rhsContract = []int{1}, []int{0, 2}
		}
		out = c.dotGeneral(patches, []int{lead, lead + n + 2}, lhsBatch, kFlat, rhsContract,
			rhsBatch)
	} else {
		// patches [split?, batch, O, kSpatial..., in'] x kernel [kSpatial..., split?, in', outCh]
		patches := c.patchesPerOutputPosition(x, lead, outSpatial, kSpatial, p)
		rhs, rhsContract := k, iotaInts(0, n+1)
		if split > 1 {
			rhs = c.reshape(k, append(slices.Clone(kSpatial), split, inCh/split, outCh)...)
			rhsBatch, rhsContract = []int{n}, append(iotaInts(0, n), n+1)
		}
		out = c.dotGeneral(patches, iotaInts(lead+2, lead+n+3), lhsBatch, rhs, rhsContract,
			rhsBatch)
		outDims := append(append([]int{batch}, outSpatial...), outCh)
		if split > 1 {
			outDims = append([]int{split}, outDims...)
		}
		out = c.reshape(out, outDims...)
	}
	if split > 1 {
		out = c.reduceSum(out, 0)
	}

	// Output layout: current axes are [batch, spatial..., channels].
	outPerm := make([]int, n+2)
	outPerm[axes.OutputBatch] = 0
	for i, a := range axes.OutputSpatial {
		outPerm[a] = i + 1
	}
	outPerm[axes.OutputChannels] = n + 1
	return c.transpose(out, outPerm...)
}

// contractionSplit returns how many parts (1 for none) the input channels of a convolution's
// matrix product are cut into, to be summed afterwards. SimpleGo runs a "small" product
// (crosses = lhs rows x rhs columns at most 16 blocks) on one core unless it has several
// batch entries, and the gradient of a convolution with respect to its kernel is such a
// product with a long contraction: cutting it into batch entries uses every core.
func contractionSplit(dtype dtypes.DType, crosses, contraction, inChannels int) int {
	blockDim := 1 << simplego.DotGeneralTargetBlockLog2Dim[dtype]
	if crosses > 16*blockDim*blockDim || contraction < minSplitContraction {
		return 1
	}
	for s := runtime.GOMAXPROCS(0); s > 1; s-- {
		if inChannels%s == 0 {
			return s
		}
	}
	return 1
}

// minSplitContraction is the contraction length below which a small matrix product is not
// worth splitting across cores.
const minSplitContraction = 1 << 11

// patchesPerKernelPosition returns [lead..., K, batch, outSpatial..., in] from x
// [lead..., batch, spatial..., in]: one strided Slice per kernel position, stacked on a new
// axis after the leading ones (so that Concatenate copies whole slices at once).
func (c *composer) patchesPerKernelPosition(x backends.Op, lead int, outSpatial,
	kSpatial []int, p convParams) backends.Op {
	n := len(outSpatial)
	xDims := c.dims(x)
	if c.err != nil {
		return nil
	}
	stackedDims := append(slices.Clone(xDims[:lead]), 1, xDims[lead])
	stackedDims = append(append(stackedDims, outSpatial...), xDims[lead+n+1])
	strides := ones(len(xDims))
	copy(strides[lead+1:], p.strides)
	parts := make([]backends.Op, 0, product(kSpatial))
	forEachIndex(kSpatial, func(kIdx []int) {
		starts := make([]int, len(xDims))
		limits := slices.Clone(xDims)
		for i := range n {
			starts[lead+1+i] = kIdx[i] * p.kernelDilations[i]
			limits[lead+1+i] = starts[lead+1+i] + (outSpatial[i]-1)*p.strides[i] + 1
		}
		part := c.slice(x, starts, limits, strides)
		parts = append(parts, c.reshape(part, stackedDims...))
	})
	return c.concat(lead, parts...)
}

// patchesPerOutputPosition returns [lead..., batch, O, kSpatial..., in] from x
// [lead..., batch, spatial..., in]: one Slice (strided by the kernel dilation) per output
// position, stacked on a new axis after the batch.
func (c *composer) patchesPerOutputPosition(x backends.Op, lead int, outSpatial,
	kSpatial []int, p convParams) backends.Op {
	n := len(outSpatial)
	xDims := c.dims(x)
	if c.err != nil {
		return nil
	}
	stackedDims := slices.Clone(xDims[:lead+1])
	stackedDims = append(append(append(stackedDims, 1), kSpatial...), xDims[lead+n+1])
	strides := ones(len(xDims))
	copy(strides[lead+1:], p.kernelDilations)
	parts := make([]backends.Op, 0, product(outSpatial))
	forEachIndex(outSpatial, func(oIdx []int) {
		starts := make([]int, len(xDims))
		limits := slices.Clone(xDims)
		for i := range n {
			starts[lead+1+i] = oIdx[i] * p.strides[i]
			limits[lead+1+i] = starts[lead+1+i] + (kSpatial[i]-1)*p.kernelDilations[i] + 1
		}
		part := c.slice(x, starts, limits, strides)
		parts = append(parts, c.reshape(part, stackedDims...))
	})
	return c.concat(lead+1, parts...)
}

// forEachIndex calls fn with every multi-index of dims in row-major order.
func forEachIndex(dims []int, fn func(idx []int)) {
	idx := make([]int, len(dims))
	for range product(dims) {
		fn(idx)
		for axis := len(dims) - 1; axis >= 0; axis-- {
			idx[axis]++
			if idx[axis] < dims[axis] {
				break
			}
			idx[axis] = 0
		}
	}
}
