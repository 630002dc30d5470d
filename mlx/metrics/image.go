package metrics

import (
	"fmt"
	"math"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
)

// dtypeFloat is the type of the statistics built in graphs.
const dtypeFloat = dtypes.Float32

// Constants of the image measures.
const (
	// MinMSE bounds the per-image mean squared error from below in PSNR, so identical images
	// score a finite 10*log10(maxVal^2/MinMSE) (100 dB for maxVal 1) instead of +Inf.
	MinMSE = 1e-10

	// SSIMWindow is the side of the Gaussian window of SSIM (Wang et al. 2004); images with
	// a smaller side use the largest odd window that fits.
	SSIMWindow = 11

	// SSIMSigma is the standard deviation, in pixels, of the Gaussian window of SSIM.
	SSIMSigma = 1.5

	// SSIMK1 and SSIMK2 set SSIM's stabilizing constants C1 = (K1*maxVal)^2 and
	// C2 = (K2*maxVal)^2.
	SSIMK1 = 0.01
	SSIMK2 = 0.03
)

// PSNR returns the peak signal-to-noise ratio in dB of each image, shaped [batch]:
// 10*log10(maxVal^2 / MSE) with the MSE of each image over all its pixels and channels
// (bounded below by MinMSE). labels and predictions are shaped [batch, ...]; maxVal is the
// largest pixel value (1 for images in [0, 1]).
func PSNR(labels, predictions *graph.Node, maxVal float64) *graph.Node {
	checkSameShape("PSNR", labels, predictions)
	diff := graph.ConvertDType(graph.Sub(predictions, labels), dtypeFloat)
	axes := make([]int, 0, diff.Rank()-1)
	for axis := 1; axis < diff.Rank(); axis++ {
		axes = append(axes, axis)
	}
	mse := graph.MaxScalar(graph.ReduceMean(graph.Square(diff), axes...), MinMSE)
	// 10*log10(max^2/mse) = (10/ln 10) * (ln(max^2) - ln(mse)).
	psnr := graph.MulScalar(graph.Neg(graph.AddScalar(graph.Log(mse), -math.Log(maxVal*maxVal))),
		10/math.Ln10)
	psnr.AssertDims(labels.Shape().Dimensions[0])
	return psnr
}

// SSIM returns the structural similarity (Wang et al. 2004) of each image, shaped [batch]:
// the mean over channels and over every position of a Gaussian window (SSIMWindow pixels,
// sigma SSIMSigma, no padding) of the SSIM map. labels and predictions are shaped
// [batch, height, width, channels]; maxVal is the largest pixel value.
func SSIM(labels, predictions *graph.Node, maxVal float64) *graph.Node {
	checkSameShape("SSIM", labels, predictions)
	if labels.Rank() != 4 {
		panic(fmt.Sprintf("metrics: SSIM needs images [batch, height, width, channels], got %s",
			labels.Shape()))
	}
	g := labels.Graph()
	dims := labels.Shape().Dimensions
	batch, height, width, channels := dims[0], dims[1], dims[2], dims[3]
	window := ssimWindowSize(height, width)
	kernel := gaussianKernel(window, SSIMSigma)
	kernelNode := graph.ConvertDType(graph.Const(g, kernel), dtypeFloat)
	kernelNode = graph.Reshape(kernelNode, window, window, 1, 1)

	// One image per (example, channel): [batch*channels, height, width, 1].
	planes := func(x *graph.Node) *graph.Node {
		x = graph.ConvertDType(x, dtypeFloat)
		x = graph.TransposeAllDims(x, 0, 3, 1, 2)
		return graph.Reshape(x, batch*channels, height, width, 1)
	}
	filter := func(x *graph.Node) *graph.Node {
		return graph.Convolve(x, kernelNode).Strides(1).NoPadding().Done()
	}
	x, y := planes(labels), planes(predictions)
	muX, muY := filter(x), filter(y)
	sigmaXX := graph.Sub(filter(graph.Square(x)), graph.Square(muX))
	sigmaYY := graph.Sub(filter(graph.Square(y)), graph.Square(muY))
	sigmaXY := graph.Sub(filter(graph.Mul(x, y)), graph.Mul(muX, muY))

	c1, c2 := math.Pow(SSIMK1*maxVal, 2), math.Pow(SSIMK2*maxVal, 2)
	numerator := graph.Mul(
		graph.AddScalar(graph.MulScalar(graph.Mul(muX, muY), 2), c1),
		graph.AddScalar(graph.MulScalar(sigmaXY, 2), c2))
	denominator := graph.Mul(
		graph.AddScalar(graph.Add(graph.Square(muX), graph.Square(muY)), c1),
		graph.AddScalar(graph.Add(sigmaXX, sigmaYY), c2))
	ssimMap := graph.Div(numerator, denominator)
	ssimMap.AssertDims(batch*channels, height-window+1, width-window+1, 1)

	perPlane := graph.ReduceMean(ssimMap, 1, 2, 3)
	perImage := graph.ReduceMean(graph.Reshape(perPlane, batch, channels), 1)
	perImage.AssertDims(batch)
	return perImage
}

// ssimWindowSize is SSIMWindow, or the largest odd size that fits a smaller image.
func ssimWindowSize(height, width int) int {
	w := min(SSIMWindow, height, width)
	if w%2 == 0 {
		w--
	}
	return max(w, 1)
}

// gaussianKernel returns a normalized size x size Gaussian window, row-major.
func gaussianKernel(size int, sigma float64) [][]float64 {
	oneD := make([]float64, size)
	var sum float64
	for i := range oneD {
		d := float64(i - size/2)
		oneD[i] = math.Exp(-d * d / (2 * sigma * sigma))
		sum += oneD[i]
	}
	kernel := make([][]float64, size)
	for i := range kernel {
		kernel[i] = make([]float64, size)
		for j := range kernel[i] {
			kernel[i][j] = oneD[i] * oneD[j] / (sum * sum)
		}
	}
	return kernel
}

// MeanSquaredError returns the mean squared error between two tensors of the same shape
// (float32 or float64), computed in Go.
func MeanSquaredError(labels, predictions *tensors.Tensor) (float64, error) {
	a, b, err := floatPair("MeanSquaredError", labels, predictions)
	if err != nil {
		return 0, err
	}
	if len(a) == 0 {
		return 0, fmt.Errorf("metrics: MeanSquaredError: empty tensors")
	}
	var sum float64
	for i := range a {
		d := b[i] - a[i]
		sum += d * d
	}
	return sum / float64(len(a)), nil
}

// PSNRImages returns, computed in Go, the PSNR in dB of each image of two tensors shaped
// [batch, ...], as the graph-side PSNR does.
func PSNRImages(labels, predictions *tensors.Tensor, maxVal float64) ([]float64, error) {
	a, b, err := floatPair("PSNRImages", labels, predictions)
	if err != nil {
		return nil, err
	}
	batch, perImage, err := batchSplit("PSNRImages", labels.Shape())
	if err != nil {
		return nil, err
	}
	out := make([]float64, batch)
	for img := range out {
		var sum float64
		for i := img * perImage; i < (img+1)*perImage; i++ {
			d := b[i] - a[i]
			sum += d * d
		}
		mse := max(sum/float64(perImage), MinMSE)
		out[img] = 10 * math.Log10(maxVal*maxVal/mse)
	}
	return out, nil
}

// SSIMImages returns, computed in Go, the SSIM of each image of two tensors shaped
// [batch, height, width, channels], as the graph-side SSIM does.
func SSIMImages(labels, predictions *tensors.Tensor, maxVal float64) ([]float64, error) {
	a, b, err := floatPair("SSIMImages", labels, predictions)
	if err != nil {
		return nil, err
	}
	if labels.Shape().Rank() != 4 {
		return nil, fmt.Errorf("metrics: SSIMImages needs [batch, height, width, channels], got %s",
			labels.Shape())
	}
	dims := labels.Shape().Dimensions
	batch, height, width, channels := dims[0], dims[1], dims[2], dims[3]
	window := ssimWindowSize(height, width)
	kernel := gaussianKernel(window, SSIMSigma)
	c1, c2 := math.Pow(SSIMK1*maxVal, 2), math.Pow(SSIMK2*maxVal, 2)
	outH, outW := height-window+1, width-window+1

	out := make([]float64, batch)
	at := func(img, y, x, c int) int { return ((img*height+y)*width+x)*channels + c }
	for img := range batch {
		var total float64
		for c := range channels {
			for oy := range outH {
				for ox := range outW {
					var mx, my, mxx, myy, mxy float64
					for ky := range window {
						for kx := range window {
							w := kernel[ky][kx]
							i := at(img, oy+ky, ox+kx, c)
							mx += w * a[i]
							my += w * b[i]
							mxx += w * a[i] * a[i]
							myy += w * b[i] * b[i]
							mxy += w * a[i] * b[i]
						}
					}
					sxx, syy, sxy := mxx-mx*mx, myy-my*my, mxy-mx*my
					total += ((2*mx*my + c1) * (2*sxy + c2)) /
						((mx*mx + my*my + c1) * (sxx + syy + c2))
				}
			}
		}
		out[img] = total / float64(channels*outH*outW)
	}
	return out, nil
}

// floatPair returns the values of two same-shaped float tensors as float64.
func floatPair(fn string, a, b *tensors.Tensor) ([]float64, []float64, error) {
	if !a.Shape().Equal(b.Shape()) {
		return nil, nil, fmt.Errorf("metrics: %s: labels shape %s differs from predictions shape %s",
			fn, a.Shape(), b.Shape())
	}
	av, err := floats(a)
	if err != nil {
		return nil, nil, fmt.Errorf("metrics: %s: labels: %w", fn, err)
	}
	bv, err := floats(b)
	if err != nil {
		return nil, nil, fmt.Errorf("metrics: %s: predictions: %w", fn, err)
	}
	return av, bv, nil
}

// floats returns the values of a float32 or float64 tensor as float64.
func floats(t *tensors.Tensor) ([]float64, error) {
	var out []float64
	var typeErr error
	err := t.ConstFlatData(func(flat any) {
		switch v := flat.(type) {
		case []float32:
			out = make([]float64, len(v))
			for i, x := range v {
				out[i] = float64(x)
			}
		case []float64:
			out = append([]float64(nil), v...)
		default:
			typeErr = fmt.Errorf("need float32 or float64 values, got %s", t.Shape().DType)
		}
	})
	if err != nil {
		return nil, err
	}
	return out, typeErr
}

// batchSplit returns the batch size and the number of values per example of shape.
func batchSplit(fn string, shape shapes.Shape) (batch, perExample int, err error) {
	if shape.Rank() < 2 || shape.Size() == 0 {
		return 0, 0, fmt.Errorf("metrics: %s: need non-empty [batch, ...] tensors, got %s",
			fn, shape)
	}
	batch = shape.Dimensions[0]
	return batch, shape.Size() / batch, nil
}
