package metrics

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gomlx/gomlx/backends"
	_ "github.com/gomlx/gomlx/backends/simplego"
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
)

var testBackend backends.Backend

func backend(t *testing.T) backends.Backend {
	t.Helper()
	if testBackend == nil {
		b, err := backends.NewWithConfig("go")
		if err != nil {
			t.Fatalf("backend: %v", err)
		}
		testBackend = b
	}
	return testBackend
}

// run executes fn on the given inputs and returns its single output.
func run(t *testing.T, fn func(a, b *graph.Node) *graph.Node, a, b any) *tensors.Tensor {
	t.Helper()
	exec, err := graph.NewExec(backend(t), fn)
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Exec(a, b)
	if err != nil {
		t.Fatal(err)
	}
	return out[0]
}

func scalar(t *testing.T, x *tensors.Tensor) float64 {
	t.Helper()
	v, err := floats(x)
	if err != nil || len(v) != 1 {
		t.Fatalf("want one float value, got %s (%v)", x.Shape(), err)
	}
	return v[0]
}

func near(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	if math.Abs(got-want) > tol {
		t.Errorf("%s = %.7g, want %.7g", what, got, want)
	}
}

func TestMSEHandComputed(t *testing.T) {
	labels := []float32{1, 2, 3, 4}
	predictions := []float32{1, 2, 3, 6}
	near(t, "graph MSE", scalar(t, run(t, MSE, labels, predictions)), 1, 1e-6)
	got, err := MeanSquaredError(tensors.FromValue(labels), tensors.FromValue(predictions))
	if err != nil {
		t.Fatal(err)
	}
	near(t, "Go MSE", got, 1, 1e-12)
}

func TestSoftmaxCrossEntropyIgnoresVoid(t *testing.T) {
	// Pixel 0: uniform over 2 classes, label 0 -> ln 2. Pixel 1: p(class 1) = 1/4 -> ln 4.
	// Pixels 2 and 3 are void (-1 and 255) and must not count, however wrong they are.
	logits := [][]float32{{0, 0}, {float32(math.Log(3)), 0}, {10, -10}, {-10, 10}}
	labels := []int32{0, 1, -1, 255}
	want := (math.Log(2) + math.Log(4)) / 2
	near(t, "cross-entropy", scalar(t, run(t, SoftmaxCrossEntropy, labels, logits)), want, 1e-5)

	// Labels with a trailing axis of 1 are accepted too.
	labels2 := [][]int32{{0}, {1}, {-1}, {255}}
	near(t, "cross-entropy [...,1] labels",
		scalar(t, run(t, SoftmaxCrossEntropy, labels2, logits)), want, 1e-5)

	// Every pixel void: 0, not NaN.
	void := []int32{-1, -1, 7, 9}
	near(t, "all void", scalar(t, run(t, SoftmaxCrossEntropy, void, logits)), 0, 0)
}

func TestMaskedSoftmaxCrossEntropyUsesMask(t *testing.T) {
	logits := [][]float32{{0, 0}, {float32(math.Log(3)), 0}}
	labels := []int32{0, 1}
	got := run(t, func(l, x *graph.Node) *graph.Node {
		mask := graph.Const(l.Graph(), []bool{false, true})
		return MaskedSoftmaxCrossEntropy(l, x, mask)
	}, labels, logits)
	near(t, "masked cross-entropy", scalar(t, got), math.Log(4), 1e-5)
}

func TestGlobalAccuracyExcludesVoid(t *testing.T) {
	// Predictions 0, 0, 1, 1 against labels 0, 1, 1, void: 2 right of 3 counted.
	logits := [][]float32{{2, 1}, {3, 0}, {0, 1}, {0, 5}}
	labels := []int32{0, 1, 1, -1}
	near(t, "accuracy", scalar(t, run(t, GlobalAccuracy, labels, logits)), 2.0/3, 1e-6)
}

func TestConfusionMatrixIoUHandComputed(t *testing.T) {
	// 3 classes; class 2 neither occurs nor is predicted, so it has no IoU.
	m := NewConfusionMatrix(3)
	if err := m.Add([]int{0, 1, 1, -1, 0}, []int{0, 0, 1, 2, 0}); err != nil {
		t.Fatal(err)
	}
	// Counts: (0,0)=2, (1,0)=1, (1,1)=1; the void pixel is skipped.
	want := []int64{2, 0, 0, 1, 1, 0, 0, 0, 0}
	for i := range want {
		if m.Counts[i] != want[i] {
			t.Fatalf("Counts = %v, want %v", m.Counts, want)
		}
	}
	iou := m.IoU()
	near(t, "IoU class 0", iou[0], 2.0/3, 1e-12) // tp 2, fp 1, fn 0
	near(t, "IoU class 1", iou[1], 1.0/2, 1e-12) // tp 1, fp 0, fn 1
	if !math.IsNaN(iou[2]) {
		t.Errorf("IoU of an absent class = %v, want NaN", iou[2])
	}
	near(t, "mean IoU", m.MeanIoU(), (2.0/3+0.5)/2, 1e-12)
	near(t, "global accuracy", m.GlobalAccuracy(), 3.0/4, 1e-12)

	if err := m.Add([]int{0}, []int{3}); err == nil {
		t.Error("Add accepted a prediction outside the classes")
	}
}

func TestBatchConfusionAccumulatesOverBatches(t *testing.T) {
	// Two batches of 2x2 "images" with 2 classes, logits [batch, h, w, classes].
	batch1Labels := [][][]int32{{{0, 1}, {1, 255}}}
	batch1Logits := [][][][]float32{{{{1, 0}, {1, 0}}, {{0, 1}, {0, 1}}}}
	batch2Labels := [][][]int32{{{1, 1}, {0, 0}}}
	batch2Logits := [][][][]float32{{{{0, 1}, {0, 1}}, {{0, 1}, {1, 0}}}}
	m := NewConfusionMatrix(2)
	for _, b := range []struct{ labels, logits any }{
		{batch1Labels, batch1Logits}, {batch2Labels, batch2Logits}} {
		counts, err := floats(run(t, BatchConfusion, b.labels, b.logits))
		if err != nil {
			t.Fatal(err)
		}
		if err := m.AddCounts(counts); err != nil {
			t.Fatal(err)
		}
	}
	// Batch 1: (0->0), (1->0), (1->1), void. Batch 2: (1->1), (1->1), (0->1), (0->0).
	want := []int64{2, 1, 1, 3}
	for i := range want {
		if m.Counts[i] != want[i] {
			t.Fatalf("accumulated counts %v, want %v", m.Counts, want)
		}
	}

	// The Go-side form gives the same matrix.
	goSide := NewConfusionMatrix(2)
	for _, b := range []struct{ labels, logits any }{
		{batch1Labels, batch1Logits}, {batch2Labels, batch2Logits}} {
		err := goSide.AddLogits(tensors.FromAnyValue(b.labels), tensors.FromAnyValue(b.logits))
		if err != nil {
			t.Fatal(err)
		}
	}
	for i := range want {
		if goSide.Counts[i] != want[i] {
			t.Fatalf("Go-side counts %v, want %v", goSide.Counts, want)
		}
	}

	metric := Segmentation(2, "road", "car")
	values := metric.Values([]float64{2, 1, 1, 3})
	near(t, "accuracy", values["accuracy"], 5.0/7, 1e-12)
	near(t, "iou/road", values["iou/road"], 2.0/4, 1e-12)
	near(t, "iou/car", values["iou/car"], 3.0/5, 1e-12)
	near(t, "mean_iou", values["mean_iou"], (0.5+0.6)/2, 1e-12)
}

func TestPSNRHandComputed(t *testing.T) {
	// Image 0 off by 0.1 everywhere: MSE 0.01 -> 20 dB. Image 1 off by 0.5: MSE 0.25.
	labels := make([][][][]float32, 2)
	predictions := make([][][][]float32, 2)
	for i, off := range []float32{0.1, 0.5} {
		labels[i] = [][][]float32{{{0}, {0}}, {{0}, {0}}}
		predictions[i] = [][][]float32{{{off}, {off}}, {{off}, {off}}}
	}
	want := []float64{20, 10 * math.Log10(4)}
	got, err := floats(run(t, func(a, b *graph.Node) *graph.Node { return PSNR(a, b, 1) },
		labels, predictions))
	if err != nil {
		t.Fatal(err)
	}
	goSide, err := PSNRImages(tensors.FromValue(labels), tensors.FromValue(predictions), 1)
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		near(t, "graph PSNR", got[i], want[i], 1e-4)
		near(t, "Go PSNR", goSide[i], want[i], 1e-5)
	}
}

// constantImage returns a [1, size, size, 1] image filled with v.
func constantImage(size int, v float32) *tensors.Tensor {
	t := tensors.FromShape(shapes.Make(dtypeFloat, 1, size, size, 1))
	tensors.MutableFlatData(t, func(flat []float32) {
		for i := range flat {
			flat[i] = v
		}
	})
	return t
}

func TestSSIMHandComputed(t *testing.T) {
	// Constant images have no variance: SSIM is the luminance term alone,
	// (2*0.5*0.25 + C1) / (0.5^2 + 0.25^2 + C1) with C1 = 0.01^2.
	c1 := 1e-4
	want := (2*0.5*0.25 + c1) / (0.25 + 0.0625 + c1)
	ssim := func(a, b *graph.Node) *graph.Node { return SSIM(a, b, 1) }
	for _, size := range []int{12, 5} { // 11x11 window, then a window shrunk to 5x5
		a, b := constantImage(size, 0.5), constantImage(size, 0.25)
		near(t, "graph SSIM", scalar(t, run(t, ssim, a, b)), want, 1e-5)
		goSide, err := SSIMImages(a, b, 1)
		if err != nil {
			t.Fatal(err)
		}
		near(t, "Go SSIM", goSide[0], want, 1e-9)
		near(t, "graph SSIM of identical images", scalar(t, run(t, ssim, a, a)), 1, 1e-5)
	}
}

func TestSSIMGraphMatchesGo(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	shape := shapes.Make(dtypeFloat, 2, 14, 13, 3)
	a, b := tensors.FromShape(shape), tensors.FromShape(shape)
	tensors.MutableFlatData(a, func(flat []float32) {
		for i := range flat {
			flat[i] = rng.Float32()
		}
	})
	tensors.MutableFlatData(b, func(flat []float32) {
		av := tensors.MustCopyFlatData[float32](a)
		for i := range flat {
			flat[i] = av[i] + 0.2*(rng.Float32()-0.5)
		}
	})
	graphSide, err := floats(run(t, func(x, y *graph.Node) *graph.Node { return SSIM(x, y, 1) }, a, b))
	if err != nil {
		t.Fatal(err)
	}
	goSide, err := SSIMImages(a, b, 1)
	if err != nil {
		t.Fatal(err)
	}
	for i := range goSide {
		near(t, "SSIM graph vs Go", graphSide[i], goSide[i], 1e-4)
		if goSide[i] <= 0.3 || goSide[i] >= 1 {
			t.Errorf("SSIM of a lightly noised image = %v, want in (0.3, 1)", goSide[i])
		}
	}
}

func TestImageMetricsSumOverBatches(t *testing.T) {
	// Stats of two batches added up give the mean over all images.
	psnr := PSNRMetric(1)
	values := psnr.Values([]float64{20 + 30 + 40, 3})
	near(t, "psnr", values["psnr"], 30, 1e-12)
	mse := MSEMetric()
	stats, err := floats(run(t, mse.BatchStats, []float32{0, 0, 0, 0}, []float32{1, 1, 0, 0}))
	if err != nil {
		t.Fatal(err)
	}
	near(t, "mse sum", stats[0], 2, 1e-6)
	near(t, "mse count", stats[1], 4, 0)
	near(t, "mse", mse.Values(stats)["mse"], 0.5, 1e-6)
}

func TestGoSideRejectsMismatchedShapes(t *testing.T) {
	_, err := MeanSquaredError(tensors.FromValue([]float32{1, 2}), tensors.FromValue([]float32{1}))
	if err == nil {
		t.Error("MeanSquaredError accepted different shapes")
	}
	_, err = SSIMImages(tensors.FromValue([]float32{1, 2}), tensors.FromValue([]float32{1, 2}), 1)
	if err == nil {
		t.Error("SSIMImages accepted a rank-1 tensor")
	}
}
