package cpubackend

import (
	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/shapes"
)

// bnSetup holds what the three batch-norm operations share.
type bnSetup struct {
	shape       shapes.Shape
	featureAxis int
	reduceAxes  []int // every axis but featureAxis
	bcastDims   []int // [1, ..., features, ..., 1]
	count       float64
}

// batchNormSetup validates operand and featureAxis and returns the shared values.
func (c *composer) batchNormSetup(operand backends.Op, featureAxis int) bnSetup {
	var s bnSetup
	s.shape = c.shape(operand)
	if c.err != nil {
		return s
	}
	rank := s.shape.Rank()
	if featureAxis < 0 {
		featureAxis += rank
	}
	if featureAxis < 0 || featureAxis >= rank {
		c.failf("feature axis %d out of range for operand %s", featureAxis, s.shape)
		return s
	}
	if !s.shape.DType.IsFloat() {
		c.failf("operand must be a float, got %s", s.shape)
		return s
	}
	s.featureAxis = featureAxis
	s.bcastDims = ones(rank)
	s.bcastDims[featureAxis] = s.shape.Dimensions[featureAxis]
	for a := range rank {
		if a != featureAxis {
			s.reduceAxes = append(s.reduceAxes, a)
		}
	}
	s.count = float64(s.shape.Size() / max(s.shape.Dimensions[featureAxis], 1))
	return s
}

// perFeature checks that v is a vector of the feature size and reshapes it for broadcasting.
func (c *composer) perFeature(s bnSetup, name string, v backends.Op) backends.Op {
	vs := c.shape(v)
	if c.err != nil {
		return nil
	}
	features := s.shape.Dimensions[s.featureAxis]
	if vs.Rank() != 1 || vs.Dimensions[0] != features || vs.DType != s.shape.DType {
		c.failf("%s must be shaped (%s)[%d], got %s", name, s.shape.DType, features, vs)
		return nil
	}
	return c.reshape(v, s.bcastDims...)
}

// expand makes the per-feature vector v ([features]) combinable with the operand: when the
// feature axis is the last one it is tiled to the operand's full shape with Broadcast (a
// plain copy, so the element-wise op that follows takes SimpleGo's fast equal-shapes path);
// otherwise it is reshaped to [1, ..., features, ..., 1] for implicit broadcasting.
func (c *composer) expand(s bnSetup, v backends.Op) backends.Op {
	if c.err != nil {
		return nil
	}
	rank := s.shape.Rank()
	if s.featureAxis != rank-1 || c.kernels {
		// Fused element-wise kernels read [1, ..., features, ..., 1] as it is.
		return c.reshape(v, s.bcastDims...)
	}
	y, err := c.b.Broadcast(v, s.shape.Dimensions[:rank-1]...)
	c.check("Broadcast", err)
	return y
}

// BatchNormForInference normalises operand with the given mean and variance:
// (x - mean) * scale / sqrt(variance + epsilon) + offset, per feature along featureAxis.
func (b *Builder) BatchNormForInference(operand, scale, offset, mean, variance backends.Op,
	epsilon float32, featureAxis int) (backends.Op, error) {
	c := b.arithmeticComposer("BatchNormForInference")
	s := c.batchNormSetup(operand, featureAxis)
	for _, v := range []struct {
		name string
		op   backends.Op
	}{{"scale", scale}, {"offset", offset}, {"mean", mean}, {"variance", variance}} {
		c.perFeature(s, v.name, v.op)
	}
	if c.err != nil {
		return nil, c.err
	}
	eps := c.scalar(s.shape.DType, float64(epsilon))
	factor := c.mul(scale, c.rsqrt(c.add(variance, eps)))
	shift := c.sub(offset, c.mul(mean, factor))
	out := c.add(c.mul(operand, c.expand(s, factor)), c.expand(s, shift))
	return c.result(out, operand)
}

// BatchNormForTraining normalises operand with the mean and (biased) variance of the batch,
// computed over every axis but featureAxis; it returns the normalised operand, the mean and
// the variance.
func (b *Builder) BatchNormForTraining(operand, scale, offset backends.Op, epsilon float32,
	featureAxis int) (normalized, batchMean, batchVariance backends.Op, err error) {
	c := b.arithmeticComposer("BatchNormForTraining")
	s := c.batchNormSetup(operand, featureAxis)
	c.perFeature(s, "scale", scale)
	c.perFeature(s, "offset", offset)
	if c.err != nil {
		return nil, nil, nil, c.err
	}
	dtype := s.shape.DType
	invCount := c.scalar(dtype, 1/s.count)
	mean := c.mul(c.reduceSum(operand, s.reduceAxes...), invCount)
	centered := c.sub(operand, c.expand(s, mean))
	variance := c.mul(c.reduceSum(c.mul(centered, centered), s.reduceAxes...), invCount)
	factor := c.mul(scale, c.rsqrt(c.add(variance, c.scalar(dtype, float64(epsilon)))))
	normalized = c.add(c.mul(centered, c.expand(s, factor)), c.expand(s, offset))
	if c.err != nil {
		return nil, nil, nil, c.err
	}
	return normalized, mean, variance, nil
}

// BatchNormGradient returns the gradients of batch normalisation (training mode) with
// respect to operand, scale and offset, given the gradient of its output:
//
//	inv        = 1 / sqrt(variance + epsilon)
//	gradOffset = sum(gradOutput)
//	gradScale  = inv * sum(gradOutput * (x - mean))
//	gradX      = scale*inv/N * (N*gradOutput - gradOffset - (x - mean)*inv*gradScale)
//
// with sums over every axis but featureAxis and N the number of values summed per feature.
// gradX is computed as gradOutput*a + (x - mean)*b + c with per-feature a, b and c.
func (b *Builder) BatchNormGradient(operand, scale, mean, variance, gradOutput backends.Op,
	epsilon float32, featureAxis int) (gradOperand, gradScale, gradOffset backends.Op, err error) {
	c := b.arithmeticComposer("BatchNormGradient")
	s := c.batchNormSetup(operand, featureAxis)
	c.perFeature(s, "scale", scale)
	c.perFeature(s, "mean", mean)
	c.perFeature(s, "variance", variance)
	if gs := c.shape(gradOutput); c.err == nil && !gs.Equal(s.shape) {
		c.failf("gradOutput shaped %s, want %s", gs, s.shape)
	}
	if c.err != nil {
		return nil, nil, nil, c.err
	}
	dtype := s.shape.DType
	inv := c.rsqrt(c.add(variance, c.scalar(dtype, float64(epsilon))))
	centered := c.sub(operand, c.expand(s, mean))
	gradOffset = c.reduceSum(gradOutput, s.reduceAxes...)
	gradScale = c.mul(inv, c.reduceSum(c.mul(gradOutput, centered), s.reduceAxes...))

	invN := c.scalar(dtype, 1/s.count)
	aFactor := c.mul(scale, inv)                                  // scale*inv
	bFactor := c.mul(c.mul(aFactor, c.mul(inv, gradScale)), invN) // scale*inv²*gradScale/N
	cTerm := c.mul(c.mul(aFactor, gradOffset), invN)              // scale*inv*gradOffset/N
	gradOperand = c.sub(c.mul(gradOutput, c.expand(s, aFactor)),
		c.add(c.mul(centered, c.expand(s, bFactor)), c.expand(s, cTerm)))
	if c.err != nil {
		return nil, nil, nil, c.err
	}
	return gradOperand, gradScale, gradOffset, nil
}

// arithmeticComposer returns a composer whose element-wise operations and sums go through
// this builder (fused kernels on float dtypes) when kernels are on, SimpleGo's otherwise.
func (b *Builder) arithmeticComposer(op string) *composer {
	c := newComposer(b.Builder, op)
	if b.backend.kernels && kernelsOK {
		c.ew, c.kernels = b, true
	}
	return c
}
