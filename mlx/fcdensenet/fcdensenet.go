// Package fcdensenet builds FC-DenseNet ("Tiramisu", Jégou et al. 2017, "The One Hundred
// Layers Tiramisu: Fully Convolutional DenseNets for Semantic Segmentation") for pixel-wise
// classification.
//
// The network, for images shaped [batch, height, width, channels] (channels last):
//
//	3x3 convolution, 48 filters
//	down path, per level: dense block (its input and new features concatenated, kept as the
//	  skip), transition down (BN, ReLU, 1x1 convolution, dropout, 2x2 max pooling)
//	bottleneck: dense block (only its new features go up)
//	up path, per level: transition up (3x3 transposed convolution with stride 2, written as
//	  zero insertion followed by a 3x3 convolution), concatenation with the skip, dense block
//	1x1 convolution to the classes
//
// A dense-block layer is BN, ReLU, 3x3 convolution (growth-rate filters) and dropout (0.2);
// each layer's output is concatenated to its input.
//
// Done returns logits, shaped [batch, height, width, classes]: the softmax of the paper is
// applied by the loss (metrics.SoftmaxCrossEntropy) or, for probabilities, by Softmax(true).
// Inputs whose sides are not multiples of 2^levels (32 for the presets) are padded with zeros
// and the output is cropped back.
package fcdensenet

import (
	"fmt"

	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/gomlx/gomlx/pkg/ml/layers"
	"github.com/gomlx/gomlx/pkg/ml/layers/activations"
	"github.com/gomlx/gomlx/pkg/ml/layers/batchnorm"

	"github.com/dlexp/dlexp/mlx/sides"
)

// Context hyperparameters read by New as defaults (those of FC-DenseNet103); the builder's
// methods and the presets override them.
const (
	// ParamFirstFilters is the filter count of the first 3x3 convolution (int, default 48).
	ParamFirstFilters = "fcdensenet_first_filters"

	// ParamGrowth is the growth rate, the filters of each dense-block layer (int, default 16).
	ParamGrowth = "fcdensenet_growth"

	// ParamDownLayers lists the layers of each dense block of the down path ([]int, default
	// 4, 5, 7, 10, 12); the up path mirrors it.
	ParamDownLayers = "fcdensenet_down_layers"

	// ParamBottleneckLayers is the number of layers of the bottleneck block (int, default 15).
	ParamBottleneckLayers = "fcdensenet_bottleneck_layers"

	// ParamDropout is the dropout rate after each convolution of the dense blocks and
	// transitions down (float64, default 0.2).
	ParamDropout = "fcdensenet_dropout"
)

// Config is an FC-DenseNet under construction: create it with New or a preset, adjust it with
// the methods, and build the graph with Done.
type Config struct {
	ctx        *context.Context
	x          *graph.Node
	numClasses int

	// Architecture.
	firstFilters     int
	growth           int
	downLayers       []int
	bottleneckLayers int

	// Regularization and output.
	dropout float64
	softmax bool
}

// New starts an FC-DenseNet on x, shaped [batch, height, width, channels] (any number of
// channels), classifying each pixel into numClasses classes, with hyperparameters read from
// ctx (defaults: FC-DenseNet103).
func New(ctx *context.Context, x *graph.Node, numClasses int) *Config {
	if x.Rank() != 4 {
		panic(fmt.Sprintf("fcdensenet: input must be [batch, height, width, channels], got %s",
			x.Shape()))
	}
	return &Config{
		ctx:              ctx,
		x:                x,
		numClasses:       numClasses,
		firstFilters:     context.GetParamOr(ctx, ParamFirstFilters, 48),
		growth:           context.GetParamOr(ctx, ParamGrowth, 16),
		downLayers:       context.GetParamOr(ctx, ParamDownLayers, []int{4, 5, 7, 10, 12}),
		bottleneckLayers: context.GetParamOr(ctx, ParamBottleneckLayers, 15),
		dropout:          context.GetParamOr(ctx, ParamDropout, 0.2),
	}
}

// FCDenseNet56 is the preset with 4 layers in every dense block and growth rate 12 (1.38M
// parameters; the paper rounds to 1.5M).
func FCDenseNet56(ctx *context.Context, x *graph.Node, numClasses int) *Config {
	return New(ctx, x, numClasses).FirstFilters(48).Growth(12).Layers([]int{4, 4, 4, 4, 4}, 4)
}

// FCDenseNet67 is the preset with 5 layers in every dense block and growth rate 16 (3.46M
// parameters with 3 input channels and 11 classes).
func FCDenseNet67(ctx *context.Context, x *graph.Node, numClasses int) *Config {
	return New(ctx, x, numClasses).FirstFilters(48).Growth(16).Layers([]int{5, 5, 5, 5, 5}, 5)
}

// FCDenseNet103 is the preset with 4, 5, 7, 10, 12 layers down, 15 in the bottleneck and
// growth rate 16 (9.32M parameters with 3 input channels and 11 classes).
func FCDenseNet103(ctx *context.Context, x *graph.Node, numClasses int) *Config {
	return New(ctx, x, numClasses).FirstFilters(48).Growth(16).
		Layers([]int{4, 5, 7, 10, 12}, 15)
}

// Tiny is a small preset for tests and quick experiments: 2 levels of 2-layer blocks, growth
// rate 4, 8 first filters (inputs are padded to multiples of 4 only).
func Tiny(ctx *context.Context, x *graph.Node, numClasses int) *Config {
	return New(ctx, x, numClasses).FirstFilters(8).Growth(4).Layers([]int{2, 2}, 2)
}

// FirstFilters sets the filters of the first 3x3 convolution.
func (c *Config) FirstFilters(n int) *Config {
	c.firstFilters = n
	return c
}

// Growth sets the growth rate: the filters of each dense-block layer.
func (c *Config) Growth(k int) *Config {
	c.growth = k
	return c
}

// Layers sets the layers of each dense block of the down path (one level per entry; the up
// path mirrors it) and of the bottleneck.
func (c *Config) Layers(down []int, bottleneck int) *Config {
	c.downLayers = append([]int(nil), down...)
	c.bottleneckLayers = bottleneck
	return c
}

// Dropout sets the dropout rate (0 turns dropout off).
func (c *Config) Dropout(rate float64) *Config {
	c.dropout = rate
	return c
}

// Softmax makes Done return class probabilities instead of logits.
func (c *Config) Softmax(on bool) *Config {
	c.softmax = on
	return c
}

// Levels returns the number of down-sampling levels; input sides are padded to multiples of
// 2^Levels.
func (c *Config) Levels() int { return len(c.downLayers) }

// Done builds the graph and returns the logits (or probabilities, with Softmax), shaped
// [batch, height, width, numClasses].
func (c *Config) Done() *graph.Node {
	c.validate()
	ctx := c.ctx.In("fcdensenet")
	dims := c.x.Shape().Dimensions
	batch, height, width := dims[0], dims[1], dims[2]
	levels := c.Levels()
	x := sides.PadToMultiple(c.x, 1<<levels)
	paddedH, paddedW := x.Shape().Dimensions[1], x.Shape().Dimensions[2]

	// First convolution.
	x = layers.Convolution(ctx.In("first_conv"), x).Channels(c.firstFilters).KernelSize(3).
		PadSame().Done()
	channels := c.firstFilters
	x.AssertDims(batch, paddedH, paddedW, channels)

	// Down path.
	skips := make([]*graph.Node, levels)
	for level, n := range c.downLayers {
		levelCtx := ctx.Inf("down_%d", level)
		x, _ = c.denseBlock(levelCtx.In("dense_block"), x, n)
		channels += n * c.growth
		x.AssertDims(batch, paddedH>>level, paddedW>>level, channels)
		skips[level] = x
		x = c.transitionDown(levelCtx.In("transition_down"), x)
		x.AssertDims(batch, paddedH>>(level+1), paddedW>>(level+1), channels)
	}

	// Bottleneck: only the new features are up-sampled.
	_, newFeatures := c.denseBlock(ctx.In("bottleneck"), x, c.bottleneckLayers)
	up := concat(newFeatures)
	upChannels := c.bottleneckLayers * c.growth
	up.AssertDims(batch, paddedH>>levels, paddedW>>levels, upChannels)

	// Up path.
	for level := levels - 1; level >= 0; level-- {
		levelCtx := ctx.Inf("up_%d", level)
		up = TransitionUp(levelCtx.In("transition_up"), up, upChannels)
		x = graph.Concatenate([]*graph.Node{up, skips[level]}, -1)
		channels = upChannels + skips[level].Shape().Dimensions[3]
		x.AssertDims(batch, paddedH>>level, paddedW>>level, channels)
		n := c.downLayers[level]
		x, newFeatures = c.denseBlock(levelCtx.In("dense_block"), x, n)
		up = concat(newFeatures)
		upChannels = n * c.growth
		channels += upChannels
		x.AssertDims(batch, paddedH>>level, paddedW>>level, channels)
	}

	// Classifier, then the padding cropped away.
	x = layers.Convolution(ctx.In("classifier"), x).Channels(c.numClasses).KernelSize(1).Done()
	x = graph.Slice(x, graph.AxisRange(), graph.AxisRange(0, height), graph.AxisRange(0, width))
	if c.softmax {
		x = graph.Softmax(x, -1)
	}
	x.AssertDims(batch, height, width, c.numClasses)
	return x
}

// validate panics (graph-building style) on an impossible configuration.
func (c *Config) validate() {
	if c.numClasses < 1 {
		panic(fmt.Sprintf("fcdensenet: need at least 1 class, got %d", c.numClasses))
	}
	if c.firstFilters < 1 || c.growth < 1 || c.bottleneckLayers < 1 {
		panic(fmt.Sprintf("fcdensenet: first filters %d, growth %d and bottleneck layers %d "+
			"must be positive", c.firstFilters, c.growth, c.bottleneckLayers))
	}
	if len(c.downLayers) > 8 {
		panic(fmt.Sprintf("fcdensenet: at most 8 levels, got %d", len(c.downLayers)))
	}
	for _, n := range c.downLayers {
		if n < 1 {
			panic(fmt.Sprintf("fcdensenet: every dense block needs a layer, got %v", c.downLayers))
		}
	}
	if c.dropout < 0 || c.dropout >= 1 {
		panic(fmt.Sprintf("fcdensenet: dropout must be in [0, 1), got %g", c.dropout))
	}
}

// denseBlock applies n layers, each seeing the concatenation of the block's input and all
// earlier layers' outputs. It returns that full concatenation and the layers' outputs.
func (c *Config) denseBlock(ctx *context.Context, x *graph.Node,
	n int) (all *graph.Node, added []*graph.Node) {
	added = make([]*graph.Node, 0, n)
	for i := range n {
		y := c.layer(ctx.Inf("layer_%d", i), x)
		added = append(added, y)
		x = graph.Concatenate([]*graph.Node{x, y}, -1)
	}
	return x, added
}

// concat joins features along the channels.
func concat(features []*graph.Node) *graph.Node {
	if len(features) == 1 {
		return features[0]
	}
	return graph.Concatenate(features, -1)
}

// layer is a dense-block layer: BN, ReLU, 3x3 convolution of growth filters, dropout.
func (c *Config) layer(ctx *context.Context, x *graph.Node) *graph.Node {
	y := batchnorm.New(ctx, x, -1).Done()
	y = activations.Relu(y)
	y = layers.Convolution(ctx, y).Channels(c.growth).KernelSize(3).PadSame().Done()
	return layers.DropoutStatic(ctx, y, c.dropout)
}

// transitionDown is BN, ReLU, 1x1 convolution keeping the channels, dropout, 2x2 max pooling.
func (c *Config) transitionDown(ctx *context.Context, x *graph.Node) *graph.Node {
	channels := x.Shape().Dimensions[3]
	y := batchnorm.New(ctx, x, -1).Done()
	y = activations.Relu(y)
	y = layers.Convolution(ctx, y).Channels(channels).KernelSize(1).Done()
	y = layers.DropoutStatic(ctx, y, c.dropout)
	return graph.MaxPool(y).Window(2).Done()
}

// TransitionUp doubles the height and width of x, shaped [batch, height, width, channels_in],
// into `channels` channels: the 3x3 transposed convolution with stride 2 of FC-DenseNet,
// written as zero insertion (each input pixel at the top-left of a 2x2 cell of zeros)
// followed by a same-padded 3x3 convolution. GoMLX has no trainable transposed convolution;
// this form trains on every backend.
func TransitionUp(ctx *context.Context, x *graph.Node, channels int) *graph.Node {
	dims := x.Shape().Dimensions
	batch, height, width, in := dims[0], dims[1], dims[2], dims[3]
	y := insertZeros(x)
	y.AssertDims(batch, 2*height, 2*width, in)
	y = layers.Convolution(ctx, y).Channels(channels).KernelSize(3).PadSame().Done()
	y.AssertDims(batch, 2*height, 2*width, channels)
	return y
}

// insertZeros spreads x, shaped [batch, height, width, channels], to twice the height and
// width: pixel (i, j) goes to (2i, 2j) and the other pixels are zero. It is built from
// reshapes and concatenations, which have gradients everywhere.
func insertZeros(x *graph.Node) *graph.Node {
	dims := x.Shape().Dimensions
	batch, height, width, channels := dims[0], dims[1], dims[2], dims[3]
	g := x.Graph()
	y := graph.Reshape(x, batch, height, 1, width, 1, channels)
	zeros := graph.Zeros(g, shapes.Make(x.DType(), batch, height, 1, width, 1, channels))
	y = graph.Concatenate([]*graph.Node{y, zeros}, 4) // [b, h, 1, w, 2, c]
	zeros = graph.Zeros(g, shapes.Make(x.DType(), batch, height, 1, width, 2, channels))
	y = graph.Concatenate([]*graph.Node{y, zeros}, 2) // [b, h, 2, w, 2, c]
	return graph.Reshape(y, batch, 2*height, 2*width, channels)
}
