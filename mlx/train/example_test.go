package train_test

import (
	"fmt"

	"github.com/dlexp/dlexp/mlx/metrics"
	"github.com/dlexp/dlexp/mlx/train"
	"github.com/dlexp/dlexp/mlx/unet"
	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/gomlx/gomlx/pkg/ml/datasets"
)

// A denoiser trained for 10 epochs with a PSNR evaluation, early stopping, checkpoints, and
// hooks feeding a chart and a GIF.
func Example() {
	var (
		backend         backends.Backend
		trainDS, testDS *datasets.InMemoryDataset
		noisySamples    *tensors.Tensor
	)
	ctx := context.New()
	model := func(ctx *context.Context, x *graph.Node) *graph.Node {
		return unet.Denoiser(ctx, x).Done()
	}
	result, err := train.New(backend, ctx, model).
		Loss(metrics.MSE).
		Data(trainDS, testDS).
		Metrics(metrics.PSNRMetric(1), metrics.SSIMMetric(1)).
		Epochs(10).BatchSize(64).LearningRate(1e-3).
		Track("psnr", true).EarlyStopping(3).Plateau(2, 0.5).
		Checkpoints("out/denoiser").
		OnEpoch(func(epoch int, trainLoss float64, eval metrics.Values) error {
			fmt.Println(epoch, trainLoss, eval["psnr"]) // e.g. append to a live chart
			return nil
		}).
		Samples(noisySamples, func(epoch int, outputs *tensors.Tensor) error {
			return nil // e.g. add a GIF frame from tensors.MustCopyFlatData[float32](outputs)
		}).
		Run()
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("best PSNR %.2f dB at epoch %d\n", result.Best, result.BestEpoch)
}
