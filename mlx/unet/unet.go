// Package unet builds UNet models for image-to-image work: an identity autoencoder, a
// denoiser and a 2x super-resolution network.
//
// The network follows Ronneberger et al. (2015) with residual conv blocks: each level is two
// 3x3 convolutions (batch norm optional) with a residual path around them, levels go down by
// 2x2 max pooling and up by a trainable 2x up-sampling (a transposed convolution with kernel
// 2 and stride 2, written as a 1x1 convolution followed by depth-to-space), and the encoder's
// outputs reach the decoder through skips joined by concatenation.
//
// Images are channels-last, shaped [batch, height, width, channels]. Sides that are not a
// multiple of 2^depth are padded with zeros internally and the output is cropped back.
//
// Build one with the fluent builder:
//
//	y := unet.New(ctx, x).Depth(2).BaseChannels(16).OutputChannels(1).Done()
//
// or start from a preset (Identity, Denoiser, SuperResolution) and adjust it.
package unet

import (
	"fmt"

	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/gomlx/gomlx/pkg/ml/layers"
	"github.com/gomlx/gomlx/pkg/ml/layers/activations"
	"github.com/gomlx/gomlx/pkg/ml/layers/batchnorm"

	"github.com/dlexp/dlexp/mlx/sides"
)

// Context hyperparameters read by New as defaults; the builder's methods override them.
const (
	// ParamDepth is the number of down-sampling levels (int, default 2).
	ParamDepth = "unet_depth"

	// ParamBaseChannels is the channel count of the first level, doubled at each level
	// down (int, default 16).
	ParamBaseChannels = "unet_base_channels"

	// ParamBatchNorm turns batch normalization after each convolution on (bool, default true).
	ParamBatchNorm = "unet_batch_norm"

	// ParamActivation names the activation (string, default "relu"); see the GoMLX
	// activations package for the names.
	ParamActivation = activations.ParamActivation
)

// Config is a UNet under construction: create it with New or a preset, adjust it with the
// methods, and build the graph with Done.
type Config struct {
	ctx *context.Context
	x   *graph.Node

	// Architecture.
	depth          int
	baseChannels   int
	outputChannels int
	upscale        int

	// Layer choices.
	batchNorm  bool
	activation activations.Type
	sigmoid    bool
}

// New starts a UNet on x, shaped [batch, height, width, channels], with hyperparameters
// read from ctx (ParamDepth, ParamBaseChannels, ParamBatchNorm, ParamActivation) and the
// output channels equal to the input channels.
func New(ctx *context.Context, x *graph.Node) *Config {
	if x.Rank() != 4 {
		panic(fmt.Sprintf("unet: input must be [batch, height, width, channels], got shape %s",
			x.Shape()))
	}
	return &Config{
		ctx:            ctx,
		x:              x,
		depth:          context.GetParamOr(ctx, ParamDepth, 2),
		baseChannels:   context.GetParamOr(ctx, ParamBaseChannels, 16),
		outputChannels: x.Shape().Dimensions[3],
		batchNorm:      context.GetParamOr(ctx, ParamBatchNorm, true),
		activation:     activations.FromName(context.GetParamOr(ctx, ParamActivation, "relu")),
	}
}

// Identity is the autoencoder preset: depth 2, 16/32/64 channels, trained to reproduce its
// input.
func Identity(ctx *context.Context, x *graph.Node) *Config {
	return New(ctx, x).Depth(2).BaseChannels(16).UnitOutput(true)
}

// Denoiser is the denoising preset: depth 2 with 16/32/64 channels, trained to map a noisy
// image to its clean version.
func Denoiser(ctx *context.Context, x *graph.Node) *Config {
	return New(ctx, x).Depth(2).BaseChannels(16).UnitOutput(true)
}

// SuperResolution is the 2x super-resolution preset: depth 1 (16/32 channels) followed by an
// up-sampling block, so the output has twice the input's height and width.
func SuperResolution(ctx *context.Context, x *graph.Node) *Config {
	return New(ctx, x).Depth(1).BaseChannels(16).Upscale(1).UnitOutput(true)
}

// Depth sets the number of down-sampling levels (0 makes a plain residual conv net).
func (c *Config) Depth(depth int) *Config {
	c.depth = depth
	return c
}

// BaseChannels sets the channels of the first level; each level down doubles them.
func (c *Config) BaseChannels(channels int) *Config {
	c.baseChannels = channels
	return c
}

// OutputChannels sets the channels of the output image (default: those of the input).
func (c *Config) OutputChannels(channels int) *Config {
	c.outputChannels = channels
	return c
}

// Upscale adds n up-sampling blocks after the decoder, each doubling height and width.
func (c *Config) Upscale(n int) *Config {
	c.upscale = n
	return c
}

// UnitOutput squashes the output into (0, 1) with a sigmoid, for images whose pixels lie in
// [0, 1]; the image presets turn it on, New leaves it off (a linear output).
func (c *Config) UnitOutput(on bool) *Config {
	c.sigmoid = on
	return c
}

// BatchNorm turns batch normalization after each convolution on or off.
func (c *Config) BatchNorm(on bool) *Config {
	c.batchNorm = on
	return c
}

// Activation sets the activation applied after each normalized convolution.
func (c *Config) Activation(activation activations.Type) *Config {
	c.activation = activation
	return c
}

// Channels returns the channel count of each level, from the top (full resolution) to the
// bottleneck: BaseChannels * 2^level.
func (c *Config) Channels() []int {
	channels := make([]int, c.depth+1)
	for level := range channels {
		channels[level] = c.baseChannels << level
	}
	return channels
}

// Done builds the graph and returns the output image, shaped
// [batch, height*2^upscale, width*2^upscale, outputChannels].
func (c *Config) Done() *graph.Node {
	c.validate()
	ctx := c.ctx.In("unet")
	batch, height, width := c.x.Shape().Dimensions[0], c.x.Shape().Dimensions[1],
		c.x.Shape().Dimensions[2]
	channels := c.Channels()

	x := sides.PadToMultiple(c.x, 1<<c.depth)
	paddedH, paddedW := x.Shape().Dimensions[1], x.Shape().Dimensions[2]

	// Encoder: a conv block per level, kept for the skip, then 2x2 max pooling.
	skips := make([]*graph.Node, c.depth)
	for level := 0; level < c.depth; level++ {
		x = c.convBlock(ctx.Inf("down_%d", level), x, channels[level])
		x.AssertDims(batch, paddedH>>level, paddedW>>level, channels[level])
		skips[level] = x
		x = graph.MaxPool(x).Window(2).Done()
	}

	// Bottleneck.
	x = c.convBlock(ctx.In("bottleneck"), x, channels[c.depth])
	x.AssertDims(batch, paddedH>>c.depth, paddedW>>c.depth, channels[c.depth])

	// Decoder: up-sample, concatenate the skip, conv block.
	for level := c.depth - 1; level >= 0; level-- {
		levelCtx := ctx.Inf("up_%d", level)
		up := UpSample(levelCtx.In("upsample"), x, channels[level])
		x = graph.Concatenate([]*graph.Node{skips[level], up}, -1)
		x.AssertDims(batch, paddedH>>level, paddedW>>level, 2*channels[level])
		x = c.convBlock(levelCtx, x, channels[level])
		x.AssertDims(batch, paddedH>>level, paddedW>>level, channels[level])
	}

	// Extra up-sampling blocks (super-resolution).
	for i := 0; i < c.upscale; i++ {
		blockCtx := ctx.Inf("upscale_%d", i)
		x = UpSample(blockCtx.In("upsample"), x, channels[0])
		x = c.convBlock(blockCtx, x, channels[0])
		x.AssertDims(batch, paddedH<<(i+1), paddedW<<(i+1), channels[0])
	}

	// Output projection, then crop the padding away.
	x = layers.Convolution(ctx.In("output"), x).Channels(c.outputChannels).KernelSize(1).Done()
	if c.sigmoid {
		x = graph.Sigmoid(x)
	}
	scale := 1 << c.upscale
	x = graph.Slice(x, graph.AxisRange(), graph.AxisRange(0, height*scale),
		graph.AxisRange(0, width*scale))
	x.AssertDims(batch, height*scale, width*scale, c.outputChannels)
	return x
}

// validate panics (graph-building style) on an impossible configuration.
func (c *Config) validate() {
	if c.depth < 0 || c.depth > 8 {
		panic(fmt.Sprintf("unet: depth must be in [0, 8], got %d", c.depth))
	}
	if c.baseChannels <= 0 || c.outputChannels <= 0 {
		panic(fmt.Sprintf("unet: channels must be positive, got base %d, output %d",
			c.baseChannels, c.outputChannels))
	}
	if c.upscale < 0 {
		panic(fmt.Sprintf("unet: upscale must be >= 0, got %d", c.upscale))
	}
}

// convBlock is two 3x3 convolutions, each followed by optional batch norm, with a residual
// path around them (a 1x1 convolution where the channels differ) added before the last
// activation.
func (c *Config) convBlock(ctx *context.Context, x *graph.Node, channels int) *graph.Node {
	shortcut := x
	if x.Shape().Dimensions[3] != channels {
		shortcut = layers.Convolution(ctx.In("shortcut"), x).Channels(channels).KernelSize(1).
			Done()
	}
	y := c.conv(ctx.In("conv_1"), x, channels)
	y = activations.Apply(c.activation, y)
	y = c.conv(ctx.In("conv_2"), y, channels)
	y = graph.Add(y, shortcut)
	return activations.Apply(c.activation, y)
}

// conv is a 3x3 same-padded convolution followed by batch norm when enabled.
func (c *Config) conv(ctx *context.Context, x *graph.Node, channels int) *graph.Node {
	y := layers.Convolution(ctx, x).Channels(channels).KernelSize(3).PadSame().
		UseBias(!c.batchNorm).Done()
	if c.batchNorm {
		y = batchnorm.New(ctx, y, -1).Done()
	}
	return y
}

// UpSample doubles the height and width of x, shaped [batch, height, width, channels_in], into
// `channels` output channels: a trainable transposed convolution with kernel 2 and stride 2,
// written as a 1x1 convolution to 4*channels followed by depth-to-space (each output pixel
// of a 2x2 cell takes its own group of channels). GoMLX has no trainable transposed
// convolution, so this form, built from reshapes and transposes, is the one that trains on
// every backend.
func UpSample(ctx *context.Context, x *graph.Node, channels int) *graph.Node {
	dims := x.Shape().Dimensions
	batch, height, width := dims[0], dims[1], dims[2]
	y := layers.Convolution(ctx, x).Channels(4 * channels).KernelSize(1).Done()
	y = graph.Reshape(y, batch, height, width, 2, 2, channels)
	y = graph.TransposeAllDims(y, 0, 1, 3, 2, 4, 5)
	y = graph.Reshape(y, batch, 2*height, 2*width, channels)
	y.AssertDims(batch, 2*height, 2*width, channels)
	return y
}
