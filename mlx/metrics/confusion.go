package metrics

import (
	"fmt"
	"math"

	"github.com/gomlx/gomlx/pkg/core/tensors"
)

// ConfusionMatrix counts, over a whole evaluation set, the non-void pixels of each true class
// predicted as each class. Build one with NewConfusionMatrix and feed it batches with Add,
// AddLogits or AddCounts (the latter with graph-side BatchConfusion results).
type ConfusionMatrix struct {
	// NumClasses is the number of classes; labels outside [0, NumClasses) are void.
	NumClasses int

	// Counts holds the counts row-major: Counts[t*NumClasses+p] is the number of pixels of
	// true class t predicted as class p.
	Counts []int64
}

// NewConfusionMatrix returns an empty confusion matrix over numClasses classes.
func NewConfusionMatrix(numClasses int) *ConfusionMatrix {
	if numClasses <= 0 {
		numClasses = 0
	}
	return &ConfusionMatrix{NumClasses: numClasses, Counts: make([]int64, numClasses*numClasses)}
}

// Reset sets every count back to zero.
func (m *ConfusionMatrix) Reset() {
	clear(m.Counts)
}

// At returns the number of pixels of true class trueClass predicted as predicted.
func (m *ConfusionMatrix) At(trueClass, predicted int) int64 {
	return m.Counts[trueClass*m.NumClasses+predicted]
}

// Add counts pixels given as true labels and predicted classes (same length); void labels are
// skipped, and a predicted class outside [0, NumClasses) is an error.
func (m *ConfusionMatrix) Add(labels, predicted []int) error {
	if len(labels) != len(predicted) {
		return fmt.Errorf("metrics: ConfusionMatrix.Add: %d labels but %d predictions",
			len(labels), len(predicted))
	}
	for i, t := range labels {
		if t < 0 || t >= m.NumClasses {
			continue
		}
		p := predicted[i]
		if p < 0 || p >= m.NumClasses {
			return fmt.Errorf("metrics: ConfusionMatrix.Add: prediction %d at %d outside [0, %d)",
				p, i, m.NumClasses)
		}
		m.Counts[t*m.NumClasses+p]++
	}
	return nil
}

// AddLogits counts the pixels of integer labels, shaped [...] or [..., 1], against the most
// likely class of logits, shaped [..., NumClasses] (float32 or float64).
func (m *ConfusionMatrix) AddLogits(labels, logits *tensors.Tensor) error {
	n := m.NumClasses
	ls := logits.Shape()
	if ls.Rank() < 1 || ls.Dimensions[ls.Rank()-1] != n {
		return fmt.Errorf("metrics: ConfusionMatrix.AddLogits: logits shape %s has no last axis "+
			"of %d classes", ls, n)
	}
	values, err := floats(logits)
	if err != nil {
		return fmt.Errorf("metrics: ConfusionMatrix.AddLogits: logits: %w", err)
	}
	truth, err := ints(labels)
	if err != nil {
		return fmt.Errorf("metrics: ConfusionMatrix.AddLogits: labels: %w", err)
	}
	if len(truth)*n != len(values) {
		return fmt.Errorf("metrics: ConfusionMatrix.AddLogits: labels shape %s does not match "+
			"logits shape %s", labels.Shape(), ls)
	}
	predicted := make([]int, len(truth))
	for i := range predicted {
		row := values[i*n : (i+1)*n]
		best := 0
		for c := 1; c < n; c++ {
			if row[c] > row[best] {
				best = c
			}
		}
		predicted[i] = best
	}
	return m.Add(truth, predicted)
}

// AddCounts adds a matrix of counts given row-major (NumClasses*NumClasses values), such as
// the sum of graph-side BatchConfusion results.
func (m *ConfusionMatrix) AddCounts(counts []float64) error {
	if len(counts) != len(m.Counts) {
		return fmt.Errorf("metrics: ConfusionMatrix.AddCounts: got %d counts, want %d",
			len(counts), len(m.Counts))
	}
	for i, c := range counts {
		m.Counts[i] += int64(math.Round(c))
	}
	return nil
}

// Total returns the number of non-void pixels counted.
func (m *ConfusionMatrix) Total() int64 {
	var total int64
	for _, c := range m.Counts {
		total += c
	}
	return total
}

// GlobalAccuracy returns the fraction of counted pixels predicted as their true class (NaN
// when nothing was counted).
func (m *ConfusionMatrix) GlobalAccuracy() float64 {
	total := m.Total()
	if total == 0 {
		return math.NaN()
	}
	var correct int64
	for c := range m.NumClasses {
		correct += m.At(c, c)
	}
	return float64(correct) / float64(total)
}

// IoU returns the intersection over union of each class, TP / (TP + FP + FN); a class that
// neither occurs nor is predicted has no IoU and gets NaN.
func (m *ConfusionMatrix) IoU() []float64 {
	n := m.NumClasses
	iou := make([]float64, n)
	for c := range n {
		var rowSum, colSum int64
		for k := range n {
			rowSum += m.At(c, k)
			colSum += m.At(k, c)
		}
		tp := m.At(c, c)
		union := rowSum + colSum - tp
		if union == 0 {
			iou[c] = math.NaN()
			continue
		}
		iou[c] = float64(tp) / float64(union)
	}
	return iou
}

// MeanIoU returns the mean of IoU over the classes that have one (NaN if none has).
func (m *ConfusionMatrix) MeanIoU() float64 {
	var sum float64
	var count int
	for _, v := range m.IoU() {
		if !math.IsNaN(v) {
			sum += v
			count++
		}
	}
	if count == 0 {
		return math.NaN()
	}
	return sum / float64(count)
}

// ints returns the values of an integer tensor as int.
func ints(t *tensors.Tensor) ([]int, error) {
	var out []int
	var typeErr error
	err := t.ConstFlatData(func(flat any) {
		switch v := flat.(type) {
		case []int32:
			out = make([]int, len(v))
			for i, x := range v {
				out[i] = int(x)
			}
		case []int64:
			out = make([]int, len(v))
			for i, x := range v {
				out[i] = int(x)
			}
		case []uint8:
			out = make([]int, len(v))
			for i, x := range v {
				out[i] = int(x)
			}
		case []int:
			out = append([]int(nil), v...)
		default:
			typeErr = fmt.Errorf("need integer class indices, got %s", t.Shape().DType)
		}
	})
	if err != nil {
		return nil, err
	}
	return out, typeErr
}
