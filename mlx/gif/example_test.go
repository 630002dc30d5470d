package gif_test

import (
	"github.com/dlexp/dlexp/mlx/gif"
)

// One frame per epoch of noisy | prediction | clean rows for a fixed set of samples.
func ExampleAnimation() {
	const n, h, w = 4, 28, 28
	noisy := make([]float32, n*h*w) // flat NHWC batches, e.g. from tensor.Flat()
	clean := make([]float32, n*h*w)
	noisyImgs, _ := gif.Split(noisy, n, h, w, 1)
	cleanImgs, _ := gif.Split(clean, n, h, w, 1)

	anim := gif.New(gif.Options{Columns: []string{"noisy", "prediction", "clean"}})
	for epoch := 1; epoch <= 5; epoch++ {
		// ... train one epoch, then predict the fixed samples ...
		pred := make([]float32, n*h*w)
		predImgs, _ := gif.Split(pred, n, h, w, 1)
		rows := make([][]gif.Image, n)
		for i := range rows {
			rows[i] = []gif.Image{noisyImgs[i], predImgs[i], cleanImgs[i]}
		}
		_ = anim.AddEpoch(epoch, rows)
		_ = anim.Update() // the cell shows the animation so far
	}
	_ = anim.Show()
	_, _ = anim.Save("denoiser.gif")
}

// A walkable error map beside the input and the coloured labels.
func ExampleErrorMap() {
	const h, w = 2, 2
	input, _ := gif.NewImage(h, w, 3, make([]float32, h*w*3))
	labels := []uint8{0, 1, 1, 255} // 255: void
	pred := []bool{false, true, false, true}
	truth := []bool{false, true, true, false}
	valid := []bool{true, true, true, false}

	colored, _ := gif.Colorize(labels, h, w, gif.DefaultPalette(2))
	errs, _ := gif.ErrorMap(input, pred, truth, valid, gif.DefaultErrorColors)
	_ = gif.ShowGrid([][]gif.Image{{input, colored, errs}},
		gif.Options{Columns: []string{"input", "labels", "errors"}})
}
