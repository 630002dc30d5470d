package metrics

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/gomlx/gomlx/pkg/core/graph"
)

// Values maps metric names ("loss", "psnr", "mean_iou", "iou/road", ...) to their values.
type Values map[string]float64

// String lists the values sorted by name, e.g. "loss=0.0123 psnr=21.4".
func (v Values) String() string {
	parts := make([]string, 0, len(v))
	for _, name := range slices.Sorted(maps.Keys(v)) {
		parts = append(parts, name+"="+strconv.FormatFloat(v[name], 'g', 5, 64))
	}
	return strings.Join(parts, " ")
}

// Metric is a measure over a whole evaluation set. For each batch, BatchStats builds in the
// graph a float32 tensor of statistics (sums and counts); the tensors of all batches are added
// up in Go, and Values turns the sums into the metric's values.
type Metric interface {
	// Name names the metric, for messages.
	Name() string

	// BatchStats builds the statistics of one batch. Their shape must not depend on the
	// batch size, since they are summed over batches.
	BatchStats(labels, predictions *graph.Node) *graph.Node

	// Values turns the statistics summed over all batches (flattened) into values.
	Values(sums []float64) Values
}

// MSEMetric measures the mean squared error over every value of the evaluation set ("mse").
func MSEMetric() Metric { return mseMetric{} }

type mseMetric struct{}

func (mseMetric) Name() string { return "mse" }

func (mseMetric) BatchStats(labels, predictions *graph.Node) *graph.Node {
	checkSameShape("MSEMetric", labels, predictions)
	diff := graph.ConvertDType(graph.Sub(predictions, labels), dtypeFloat)
	sum := graph.ReduceAllSum(graph.Square(diff))
	count := graph.Scalar(labels.Graph(), dtypeFloat, labels.Shape().Size())
	return graph.Stack([]*graph.Node{sum, count}, 0)
}

func (mseMetric) Values(sums []float64) Values {
	return Values{"mse": safeDiv(sums[0], sums[1])}
}

// PSNRMetric measures the mean over images of their PSNR in dB ("psnr"); maxVal is the
// largest pixel value.
func PSNRMetric(maxVal float64) Metric { return imageMetric{"psnr", maxVal, PSNR} }

// SSIMMetric measures the mean over images of their SSIM ("ssim"); maxVal is the largest
// pixel value.
func SSIMMetric(maxVal float64) Metric { return imageMetric{"ssim", maxVal, SSIM} }

type imageMetric struct {
	name    string
	maxVal  float64
	perItem func(labels, predictions *graph.Node, maxVal float64) *graph.Node
}

func (m imageMetric) Name() string { return m.name }

func (m imageMetric) BatchStats(labels, predictions *graph.Node) *graph.Node {
	perImage := m.perItem(labels, predictions, m.maxVal)
	count := graph.Scalar(labels.Graph(), dtypeFloat, perImage.Shape().Dimensions[0])
	return graph.Stack([]*graph.Node{graph.ReduceAllSum(perImage), count}, 0)
}

func (m imageMetric) Values(sums []float64) Values {
	return Values{m.name: safeDiv(sums[0], sums[1])}
}

// SegmentationMetric measures pixel-wise classification over the whole evaluation set from
// one confusion matrix: "accuracy" (global accuracy), "mean_iou" and "iou/<class>" for each
// class that occurs or is predicted. Predictions are logits shaped [..., numClasses]; void
// labels are left out.
type SegmentationMetric struct {
	numClasses int
	classNames []string

	// Confusion is the confusion matrix of the last evaluation, set by Values.
	Confusion *ConfusionMatrix
}

// Segmentation returns a SegmentationMetric over numClasses classes; classNames, when given
// (one per class), name the per-class IoU values, which otherwise use the class index.
func Segmentation(numClasses int, classNames ...string) *SegmentationMetric {
	if len(classNames) != 0 && len(classNames) != numClasses {
		panic(fmt.Sprintf("metrics: Segmentation: %d class names for %d classes",
			len(classNames), numClasses))
	}
	return &SegmentationMetric{numClasses: numClasses, classNames: classNames}
}

// Name implements Metric.
func (m *SegmentationMetric) Name() string { return "segmentation" }

// BatchStats implements Metric: the batch's confusion matrix.
func (m *SegmentationMetric) BatchStats(labels, logits *graph.Node) *graph.Node {
	if numClasses(logits) != m.numClasses {
		panic(fmt.Sprintf("metrics: Segmentation over %d classes got logits shaped %s",
			m.numClasses, logits.Shape()))
	}
	return BatchConfusion(labels, logits)
}

// Values implements Metric; it also keeps the matrix in Confusion.
func (m *SegmentationMetric) Values(sums []float64) Values {
	confusion := NewConfusionMatrix(m.numClasses)
	if err := confusion.AddCounts(sums); err != nil {
		panic(err) // BatchStats fixes the size: a mismatch is a programming error.
	}
	m.Confusion = confusion
	values := Values{"accuracy": confusion.GlobalAccuracy(), "mean_iou": confusion.MeanIoU()}
	for c, iou := range confusion.IoU() {
		if iou != iou { // NaN: the class neither occurs nor is predicted.
			continue
		}
		name := strconv.Itoa(c)
		if len(m.classNames) > 0 {
			name = m.classNames[c]
		}
		values["iou/"+name] = iou
	}
	return values
}

// safeDiv returns a/b, or 0 when b is 0.
func safeDiv(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}
