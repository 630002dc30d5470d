// Package metrics holds the losses and quality measures of the model zoo: mean squared error,
// softmax cross-entropy that ignores void pixels, global accuracy, the confusion matrix with
// per-class and mean intersection over union (IoU), PSNR and SSIM.
//
// Most measures come in two forms:
//
//   - graph-side functions taking *graph.Node (MSE, SoftmaxCrossEntropy, GlobalAccuracy,
//     BatchConfusion, PSNR, SSIM), usable as losses or inside an evaluation graph; their
//     arguments follow GoMLX's loss convention, labels first, then predictions;
//   - Go-side functions and types working on fetched tensors (MeanSquaredError, PSNRImages,
//     SSIMImages, ConfusionMatrix), for evaluation outside a graph.
//
// A Metric joins both: each evaluation batch builds statistics in the graph, the statistics
// are summed over the whole evaluation set in Go, and the sums are turned into Values at the
// end. This is how a confusion matrix is accumulated over a whole evaluation set rather than
// averaged per batch.
//
// Segmentation labels are integer class indices. A label outside [0, numClasses) -- for
// instance -1 or 255 -- marks a void pixel: it is left out of the loss, the accuracy and the
// confusion matrix.
package metrics

import (
	"fmt"

	"github.com/gomlx/gomlx/pkg/core/graph"
)

// MSE returns the mean squared error between labels and predictions (same shape), a scalar.
func MSE(labels, predictions *graph.Node) *graph.Node {
	checkSameShape("MSE", labels, predictions)
	return graph.ReduceAllMean(graph.Square(graph.Sub(predictions, labels)))
}

// SoftmaxCrossEntropy returns the mean softmax cross-entropy of logits, shaped
// [..., numClasses], against integer labels shaped [...] or [..., 1], over the pixels whose
// label is a class (void pixels, labels outside [0, numClasses), are ignored). It is a scalar,
// 0 when every pixel is void.
func SoftmaxCrossEntropy(labels, logits *graph.Node) *graph.Node {
	labels = classLabels("SoftmaxCrossEntropy", labels, logits)
	return MaskedSoftmaxCrossEntropy(labels, logits, ValidMask(labels, numClasses(logits)))
}

// MaskedSoftmaxCrossEntropy is SoftmaxCrossEntropy with the pixels to count given by mask,
// shaped like labels (bool or numeric, non-zero meaning counted).
func MaskedSoftmaxCrossEntropy(labels, logits, mask *graph.Node) *graph.Node {
	labels = classLabels("MaskedSoftmaxCrossEntropy", labels, logits)
	dtype := logits.DType()
	oneHot := graph.OneHot(labels, numClasses(logits), dtype)
	perPixel := graph.Neg(graph.ReduceSum(graph.Mul(oneHot, graph.LogSoftmax(logits, -1)), -1))
	weights := graph.ConvertDType(mask, dtype)
	if !weights.Shape().Equal(perPixel.Shape()) {
		panic(fmt.Sprintf("metrics: MaskedSoftmaxCrossEntropy: mask shape %s does not match "+
			"labels shape %s", mask.Shape(), labels.Shape()))
	}
	total := graph.ReduceAllSum(graph.Mul(perPixel, weights))
	count := graph.MaxScalar(graph.ReduceAllSum(weights), 1)
	return graph.Div(total, count)
}

// ValidMask returns, shaped like labels, a float mask that is 1 where the label is a class in
// [0, numClasses) and 0 on void pixels.
func ValidMask(labels *graph.Node, numClasses int) *graph.Node {
	if !labels.DType().IsInt() {
		panic(fmt.Sprintf("metrics: labels must be integers, got %s", labels.DType()))
	}
	valid := graph.LogicalAnd(
		graph.GreaterOrEqual(labels, graph.ScalarZero(labels.Graph(), labels.DType())),
		graph.LessThan(labels, graph.Scalar(labels.Graph(), labels.DType(), numClasses)))
	return graph.ConvertDType(valid, dtypeFloat)
}

// GlobalAccuracy returns the fraction of non-void pixels whose most likely class in logits,
// shaped [..., numClasses], equals the label, a scalar (0 when every pixel is void).
func GlobalAccuracy(labels, logits *graph.Node) *graph.Node {
	labels = classLabels("GlobalAccuracy", labels, logits)
	valid := ValidMask(labels, numClasses(logits))
	predicted := graph.ArgMax(logits, -1, labels.DType())
	correct := graph.Mul(graph.ConvertDType(graph.Equal(predicted, labels), dtypeFloat), valid)
	return graph.Div(graph.ReduceAllSum(correct), graph.MaxScalar(graph.ReduceAllSum(valid), 1))
}

// BatchConfusion returns the confusion matrix of one batch, shaped [numClasses, numClasses]
// (float32 counts): entry [t, p] counts the non-void pixels of true class t predicted as p
// (the most likely class of logits, shaped [..., numClasses]). Sum it over batches and give it
// to ConfusionMatrix.AddCounts to get per-class and mean IoU over a whole set.
func BatchConfusion(labels, logits *graph.Node) *graph.Node {
	labels = classLabels("BatchConfusion", labels, logits)
	n := numClasses(logits)
	truth := graph.Reshape(graph.OneHot(labels, n, dtypeFloat), -1, n) // void rows are zeros
	predicted := graph.OneHot(graph.ArgMax(logits, -1, labels.DType()), n, dtypeFloat)
	predicted = graph.Reshape(predicted, -1, n)
	confusion := graph.Einsum("it,ip->tp", truth, predicted)
	confusion.AssertDims(n, n)
	return confusion
}

// numClasses is the size of the last axis of logits.
func numClasses(logits *graph.Node) int {
	return logits.Shape().Dimensions[logits.Rank()-1]
}

// classLabels checks that labels are integers shaped like logits without its class axis (or
// with it of size 1, which it drops) and returns them shaped [...].
func classLabels(fn string, labels, logits *graph.Node) *graph.Node {
	if !labels.DType().IsInt() {
		panic(fmt.Sprintf("metrics: %s: labels must be integer class indices, got %s",
			fn, labels.DType()))
	}
	if labels.Rank() == logits.Rank() && labels.Shape().Dimensions[labels.Rank()-1] == 1 {
		labels = graph.Reshape(labels, labels.Shape().Dimensions[:labels.Rank()-1]...)
	}
	want := logits.Shape().Dimensions[:logits.Rank()-1]
	got := labels.Shape().Dimensions
	if len(got) != len(want) {
		panic(fmt.Sprintf("metrics: %s: labels shape %s does not match logits shape %s",
			fn, labels.Shape(), logits.Shape()))
	}
	for i := range want {
		if got[i] != want[i] {
			panic(fmt.Sprintf("metrics: %s: labels shape %s does not match logits shape %s",
				fn, labels.Shape(), logits.Shape()))
		}
	}
	return labels
}

// checkSameShape panics (graph-building style) when a and b differ in shape.
func checkSameShape(fn string, a, b *graph.Node) {
	if !a.Shape().Equal(b.Shape()) {
		panic(fmt.Sprintf("metrics: %s: labels shape %s differs from predictions shape %s",
			fn, a.Shape(), b.Shape()))
	}
}
