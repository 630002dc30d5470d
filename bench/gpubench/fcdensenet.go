package main

import (
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/dlexp/dlexp/mlx/fcdensenet"
	"github.com/dlexp/dlexp/mlx/metrics"
)

// fcDenseNetSpec is FC-DenseNet103 on Cityscapes-shaped input: 256x128 color plus disparity
// (4 channels), batch 4, per-pixel classes; tiny: 64x32, batch 2.
func fcDenseNetSpec(tiny bool) modelSpec {
	s := modelSpec{name: "fcdensenet", batch: 4, height: 128, width: 256, channels: 4,
		classes: numClasses, loss: metrics.SoftmaxCrossEntropy}
	if tiny {
		s.batch, s.height, s.width = 2, 32, 64
	}
	s.model = func(ctx *context.Context, x *graph.Node) *graph.Node {
		return fcdensenet.FCDenseNet103(ctx, x, numClasses).Done()
	}
	return s
}
