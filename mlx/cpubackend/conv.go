package cpubackend

import (
	"slices"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/shapeinference"
)

// ConvGeneral is a general convolution (any axes layout, strides, paddings, input and kernel
// dilations, channel or batch groups), composed as im2col plus one matrix product:
//
//  1. input and kernel are transposed to [batch, spatial..., channels] and
//     [spatial..., in, out];
//  2. input dilation (zero insertion) and padding are applied with Pad;
//  3. the patches [batch, outSpatial..., kernelSpatial..., in] are gathered with strided
//     Slices, one per kernel position or one per output position, whichever is fewer (the
//     gradient with respect to the kernel is a convolution with a large "kernel" and a small
//     output);
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
	axes := p.axes
	n := len(axes.InputSpatial)

	// 1. Canonical layouts: x [batch, spatial..., in], k [spatial..., in, out].
	xPerm := append(append([]int{axes.InputBatch}, axes.InputSpatial...), axes.InputChannels)
	x := c.transpose(input, xPerm...)
	kPerm := append(slices.Clone(axes.KernelSpatial), axes.KernelInputChannels,
		axes.KernelOutputChannels)
	k := c.transpose(kernel, kPerm...)
	xShape := c.shape(x)
	kDims := c.dims(k)
	if c.err != nil {
		return nil
	}

	// 2. Input dilation and padding.
	padConfig := make([]backends.PadAxis, n+2)
	needPad := false
	for i := range n {
		padConfig[i+1] = backends.PadAxis{
			Start:    p.paddings[i][0],
			End:      p.paddings[i][1],
			Interior: p.inputDilations[i] - 1,
		}
		needPad = needPad || padConfig[i+1] != backends.PadAxis{}
	}
	if needPad {
		x = c.pad(x, c.zeroOf(xShape.DType), padConfig)
	}
	xDims := c.dims(x)
	if c.err != nil {
		return nil
	}

	// Output and kernel spatial sizes.
	batch, inCh := xDims[0], xDims[n+1]
	outSpatial := make([]int, n)
	kSpatial := kDims[:n]
	for i := range n {
		span := (kSpatial[i]-1)*p.kernelDilations[i] + 1
		outSpatial[i] = (xDims[i+1]-span)/p.strides[i] + 1
		if xDims[i+1] < span || outSpatial[i] < 1 {
			c.failf("spatial axis %d: padded input size %d smaller than kernel span %d",
				i, xDims[i+1], span)
			return nil
		}
	}

	// 3.+4. Patches and one matrix product.
	var out backends.Op
	numK, numOut := product(kSpatial), product(outSpatial)
	if numK <= numOut {
		patches := c.patchesPerKernelPosition(x, batch, inCh, outSpatial, kSpatial, p)
		// patches [batch, out..., K, in] x kernel [K, in, outCh] -> [batch, out..., outCh]
		kFlat := c.reshape(k, numK, kDims[n], kDims[n+1])
		out = c.dotGeneral(patches, []int{n + 1, n + 2}, kFlat, []int{0, 1})
	} else {
		patches := c.patchesPerOutputPosition(x, batch, inCh, outSpatial, kSpatial, p)
		// patches [batch, O, kSpatial..., in] x kernel [kSpatial..., in, outCh] -> [batch, O, outCh]
		out = c.dotGeneral(patches, iotaInts(2, n+3), k, iotaInts(0, n+1))
		out = c.reshape(out, append(append([]int{batch}, outSpatial...), kDims[n+1])...)
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

// patchesPerKernelPosition returns [batch, outSpatial..., K, in]: one strided Slice of x per
// kernel position, stacked on a new axis.
func (c *composer) patchesPerKernelPosition(x backends.Op, batch, inCh int,
	outSpatial, kSpatial []int, p convParams) backends.Op {
	n := len(outSpatial)
	numK := product(kSpatial)
	stackedDims := append(append([]int{batch}, outSpatial...), 1, inCh)
	strides := append(append([]int{1}, p.strides...), 1)
	parts := make([]backends.Op, 0, numK)
	forEachIndex(kSpatial, func(kIdx []int) {
		starts := make([]int, n+2)
		limits := append(append([]int{batch}, make([]int, n)...), inCh)
		for i := range n {
			starts[i+1] = kIdx[i] * p.kernelDilations[i]
			limits[i+1] = starts[i+1] + (outSpatial[i]-1)*p.strides[i] + 1
		}
		part := c.slice(x, starts, limits, strides)
		parts = append(parts, c.reshape(part, stackedDims...))
	})
	return c.concat(n+1, parts...)
}

// patchesPerOutputPosition returns [batch, O, kSpatial..., in]: one strided Slice of x (with
// the kernel dilation as stride) per output position, stacked on axis 1.
func (c *composer) patchesPerOutputPosition(x backends.Op, batch, inCh int,
	outSpatial, kSpatial []int, p convParams) backends.Op {
	n := len(outSpatial)
	numOut := product(outSpatial)
	stackedDims := append(append([]int{batch, 1}, kSpatial...), inCh)
	strides := append(append([]int{1}, p.kernelDilations...), 1)
	parts := make([]backends.Op, 0, numOut)
	forEachIndex(outSpatial, func(oIdx []int) {
		starts := make([]int, n+2)
		limits := append(append([]int{batch}, make([]int, n)...), inCh)
		for i := range n {
			starts[i+1] = oIdx[i] * p.strides[i]
			limits[i+1] = starts[i+1] + (kSpatial[i]-1)*p.kernelDilations[i] + 1
		}
		part := c.slice(x, starts, limits, strides)
		parts = append(parts, c.reshape(part, stackedDims...))
	})
	return c.concat(1, parts...)
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
