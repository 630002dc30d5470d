package chart_test

import (
	"math"

	"github.com/dlexp/dlexp/mlx/chart"
)

// A loss curve that redraws in place after every epoch of a training loop in the same cell.
func ExampleNewLive() {
	live := chart.NewLive("Denoiser loss", chart.WithAxes("epoch", "MSE"), chart.WithLogY())
	defer func() { _ = live.Close() }()
	for epoch := 1; epoch <= 10; epoch++ {
		// ... one epoch of training ...
		live.Append("train", float64(epoch), math.Exp(-float64(epoch)/4))
		live.Append("validation", float64(epoch), 1.2*math.Exp(-float64(epoch)/5))
	}
}

// Global accuracy over epochs for four input types, shown inline and saved as HTML and PNG.
func ExampleLine() {
	acc := chart.NewLine("Global accuracy", chart.WithAxes("epoch", "accuracy"),
		chart.WithYRange(0, 1))
	results := map[string][]float64{
		"RGB": {0.71, 0.80, 0.84}, "RGB+D": {0.73, 0.82, 0.86},
		"HDR": {0.72, 0.81, 0.85}, "HDR+D": {0.74, 0.83, 0.87},
	}
	for _, input := range []string{"RGB", "RGB+D", "HDR", "HDR+D"} {
		_ = acc.Add(input, nil, results[input]) // x = epochs 1, 2, 3
	}
	_ = acc.Show()
	_, _ = acc.SaveHTML("accuracy.html")
	_, _ = acc.SavePNG("accuracy.png")
}
