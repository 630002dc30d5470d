package train

import (
	stdcontext "context"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	_ "github.com/dlexp/dlexp/mlx/cpubackend"
	"github.com/dlexp/dlexp/mlx/metrics"
	"github.com/dlexp/dlexp/mlx/unet"
	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/gomlx/gomlx/pkg/ml/datasets"
	"github.com/gomlx/gomlx/pkg/ml/layers"
	"github.com/gomlx/gomlx/pkg/ml/train/optimizers"
)

var sharedBackend backends.Backend

func testBackend(t testing.TB) backends.Backend {
	t.Helper()
	if sharedBackend == nil {
		b, err := backends.NewWithConfig("cpu")
		if err != nil {
			t.Fatalf("cpu backend: %v", err)
		}
		sharedBackend = b
	}
	return sharedBackend
}

// images returns n synthetic [size, size, 1] images: a bright rectangle on a dark ground.
func images(seed uint64, n, size int) [][][][]float32 {
	rng := rand.New(rand.NewPCG(seed, 0))
	out := make([][][][]float32, n)
	for i := range out {
		y0, x0 := rng.IntN(size/2), rng.IntN(size/2)
		h, w := 2+rng.IntN(size/2), 2+rng.IntN(size/2)
		out[i] = make([][][]float32, size)
		for y := range size {
			out[i][y] = make([][]float32, size)
			for x := range size {
				v := float32(0.1)
				if y >= y0 && y < y0+h && x >= x0 && x < x0+w {
					v = 0.9
				}
				out[i][y][x] = []float32{v}
			}
		}
	}
	return out
}

// noisy returns a copy of imgs with Gaussian noise of the given deviation.
func noisy(seed uint64, imgs [][][][]float32, sigma float64) [][][][]float32 {
	rng := rand.New(rand.NewPCG(seed, 1))
	out := make([][][][]float32, len(imgs))
	for i := range imgs {
		out[i] = make([][][]float32, len(imgs[i]))
		for y := range imgs[i] {
			out[i][y] = make([][]float32, len(imgs[i][y]))
			for x := range imgs[i][y] {
				out[i][y][x] = []float32{imgs[i][y][x][0] + float32(sigma*rng.NormFloat64())}
			}
		}
	}
	return out
}

// denoisingData returns an in-memory dataset of n noisy (input) and clean (label) images.
func denoisingData(t testing.TB, seed uint64, n, size int) *datasets.InMemoryDataset {
	t.Helper()
	clean := images(seed, n, size)
	ds, err := datasets.InMemoryFromData(testBackend(t), "denoise",
		[]any{noisy(seed, clean, 0.2)}, []any{clean})
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

func denoiser(ctx *context.Context, x *graph.Node) *graph.Node {
	return unet.Denoiser(ctx, x).Done()
}

func TestParamNamesMatchGoMLX(t *testing.T) {
	if ParamLearningRate != optimizers.ParamLearningRate || ParamSeed != context.ParamInitialSeed {
		t.Errorf("hyperparameter names drifted from GoMLX's")
	}
}

func TestDenoiserLossFalls(t *testing.T) {
	b := testBackend(t)
	var losses []float64
	result, err := New(b, context.New(), denoiser).
		Data(denoisingData(t, 1, 32, 28), denoisingData(t, 2, 8, 28)).
		Metrics(metrics.PSNRMetric(1)).
		BatchSize(4).Epochs(3).Seed(7).LearningRate(3e-3).
		OnStep(func(step int, loss float64) error {
			losses = append(losses, loss)
			return nil
		}).Run()
	if err != nil {
		t.Fatal(err)
	}
	if len(losses) != 24 || result.Steps != 24 || result.Epochs != 3 {
		t.Fatalf("ran %d steps (result %d steps, %d epochs), want 24 steps in 3 epochs",
			len(losses), result.Steps, result.Epochs)
	}
	first, last := result.History[0], result.History[2]
	if !(last.TrainLoss < 0.5*first.TrainLoss) {
		t.Errorf("train loss went from %.4g to %.4g, want it at least halved",
			first.TrainLoss, last.TrainLoss)
	}
	if _, ok := last.Eval["psnr"]; !ok {
		t.Errorf("evaluation values %v lack psnr", last.Eval)
	}
	t.Logf("train loss by epoch: %.4g %.4g %.4g; eval %s; %.3gs/step", first.TrainLoss,
		result.History[1].TrainLoss, last.TrainLoss, last.Eval, result.StepTime.Seconds())
}

// smallModel is a fast model with dropout (so the random state matters) for the tests of
// the training machinery.
func smallModel(ctx *context.Context, x *graph.Node) *graph.Node {
	y := layers.Convolution(ctx.In("c1"), x).Channels(4).KernelSize(3).PadSame().Done()
	y = graph.Tanh(y)
	y = layers.DropoutStatic(ctx, y, 0.2)
	return layers.Convolution(ctx.In("c2"), y).Channels(1).KernelSize(3).PadSame().Done()
}

// smallRun configures a run of smallModel on 8x8 images: 16 examples, batch 4, so 4 steps
// per epoch.
func smallRun(t *testing.T, ctx *context.Context, dir string) *Config {
	return New(testBackend(t), ctx, smallModel).
		Data(denoisingData(t, 3, 16, 8), denoisingData(t, 4, 8, 8)).
		BatchSize(4).Seed(11).LearningRate(1e-2).Checkpoints(dir).Progress(false)
}

// variables returns the values of the context's variables by name.
func variables(t *testing.T, ctx *context.Context) map[string][]float64 {
	t.Helper()
	out := map[string][]float64{}
	for v := range ctx.IterVariables() {
		if isMetricsScope(v.Scope()) {
			continue // training-metric averages, named anew by each trainer
		}
		value := v.MustValue()
		var flat []float64
		if err := value.ConstFlatData(func(data any) {
			switch d := data.(type) {
			case []float32:
				for _, x := range d {
					flat = append(flat, float64(x))
				}
			case []float64:
				flat = append(flat, d...)
			case []int64:
				for _, x := range d {
					flat = append(flat, float64(x))
				}
			case []uint64: // random-number state
				for _, x := range d {
					flat = append(flat, float64(x))
				}
			}
		}); err != nil {
			t.Fatal(err)
		}
		out[v.ScopeAndName()] = flat
	}
	return out
}

func TestResumeAfterInterruptGivesSameWeights(t *testing.T) {
	// Uninterrupted: 3 epochs of 4 steps.
	whole := context.New()
	if _, err := smallRun(t, whole, t.TempDir()).Epochs(3).Run(); err != nil {
		t.Fatal(err)
	}

	// Interrupted at step 6 (inside epoch 2), then resumed from the checkpoint.
	dir := t.TempDir()
	stop, cancel := stdcontext.WithCancel(stdcontext.Background())
	result, err := smallRun(t, context.New(), dir).Epochs(3).
		OnStep(func(step int, _ float64) error {
			if step == 6 {
				cancel()
			}
			return nil
		}).RunContext(stop)
	if !errors.Is(err, ErrInterrupted) || !result.Interrupted || result.Steps != 6 {
		t.Fatalf("interrupted run: err %v, result %+v; want ErrInterrupted at step 6", err, result)
	}
	if result.Checkpoint == "" {
		t.Fatal("no checkpoint saved on interrupt")
	}
	if _, err := os.Stat(result.Checkpoint + ".json"); err != nil {
		t.Fatalf("checkpoint of the interrupt: %v", err)
	}

	resumedCtx := context.New()
	resumed, err := smallRun(t, resumedCtx, dir).Epochs(3).Run()
	if err != nil {
		t.Fatal(err)
	}
	if resumed.Steps != 12 || resumed.Epochs != 3 || len(resumed.History) != 2 {
		t.Fatalf("resumed run ended at step %d, epoch %d with %d epochs run; want 12, 3, 2",
			resumed.Steps, resumed.Epochs, len(resumed.History))
	}

	want, got := variables(t, whole), variables(t, resumedCtx)
	compared := 0
	for name, w := range want {
		g, ok := got[name]
		if !ok {
			t.Errorf("variable %s missing after resume", name)
			continue
		}
		for i := range w {
			if w[i] != g[i] && !(math.IsNaN(w[i]) && math.IsNaN(g[i])) {
				t.Errorf("variable %s[%d] = %v after resume, %v uninterrupted", name, i, g[i], w[i])
				break
			}
		}
		compared++
	}
	if compared < 6 {
		t.Errorf("compared only %d variables", compared)
	}
}

func TestCheckpointsKeepLastAndBest(t *testing.T) {
	dir := t.TempDir()
	result, err := smallRun(t, context.New(), dir).Epochs(5).Keep(2).Run()
	if err != nil {
		t.Fatal(err)
	}
	names, err := listCheckpoints(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(names) != 2 {
		t.Errorf("kept %d checkpoints (%v), want 2", len(names), names)
	}
	if result.Checkpoint != filepath.Join(dir, names[len(names)-1]) {
		t.Errorf("result checkpoint %q is not the newest %v", result.Checkpoint, names)
	}
	best, err := listCheckpoints(filepath.Join(dir, BestDir))
	if err != nil || len(best) != 1 {
		t.Fatalf("best checkpoints: %v (%v), want exactly one", best, err)
	}
	if result.BestCheckpoint != filepath.Join(dir, BestDir, best[0]) {
		t.Errorf("result best checkpoint %q, found %v", result.BestCheckpoint, best)
	}
	staged, _ := os.ReadDir(filepath.Join(dir, stagingDir))
	if len(staged) != 0 {
		t.Errorf("staging directory not empty: %d files", len(staged))
	}

	// Another run on the same directory with the same epoch count has nothing to do.
	again, err := smallRun(t, context.New(), dir).Epochs(5).Run()
	if err != nil || again.Epochs != 5 || len(again.History) != 0 {
		t.Errorf("rerun: err %v, %d epochs, %d run; want nil, 5, 0", err, again.Epochs,
			len(again.History))
	}
}

func TestEarlyStoppingAndPlateau(t *testing.T) {
	// Track a value that never improves after the first epoch: a constant "metric".
	var lrs []float64
	result, err := smallRun(t, context.New(), t.TempDir()).Epochs(10).
		Metrics(constantMetric{}).Track("constant", true).
		Plateau(1, 0.5).EarlyStopping(3).
		OnEpoch(func(epoch int, trainLoss float64, eval metrics.Values) error {
			if eval["constant"] != 1 {
				t.Errorf("epoch %d eval %v lacks constant=1", epoch, eval)
			}
			return nil
		}).Run()
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range result.History {
		lrs = append(lrs, e.LearningRate)
	}
	if !result.StoppedEarly || result.Epochs != 4 || result.BestEpoch != 1 {
		t.Fatalf("stopped early %v after %d epochs, best epoch %d; want true, 4, 1",
			result.StoppedEarly, result.Epochs, result.BestEpoch)
	}
	want := []float64{1e-2, 5e-3, 2.5e-3, 1.25e-3}
	for i := range want {
		if math.Abs(lrs[i]-want[i]) > 1e-9 {
			t.Fatalf("learning rates by epoch %v, want %v", lrs, want)
		}
	}
}

// constantMetric always measures 1.
type constantMetric struct{}

func (constantMetric) Name() string { return "constant" }
func (constantMetric) BatchStats(labels, _ *graph.Node) *graph.Node {
	return graph.OnesLike(graph.ReduceAllSum(labels))
}
func (constantMetric) Values(sums []float64) metrics.Values { return metrics.Values{"constant": 1} }

func TestNonFiniteLossStopsWithStepAndCheckpoint(t *testing.T) {
	dir := t.TempDir()
	// The model turns to NaN from global step 6 on (the step counter reads 5 during step 6).
	poisoned := func(ctx *context.Context, x *graph.Node) *graph.Node {
		y := smallModel(ctx, x)
		step := optimizers.GetGlobalStepVar(ctx).ValueGraph(x.Graph())
		bad := graph.GreaterOrEqual(step, graph.Scalar(x.Graph(), step.DType(), 5))
		nan := graph.Scalar(x.Graph(), y.DType(), math.NaN())
		return graph.Where(bad, graph.Add(y, nan), y)
	}
	cfg := smallRun(t, context.New(), dir).Epochs(3)
	cfg.model = poisoned
	result, err := cfg.Run()
	if !errors.Is(err, ErrNonFinite) {
		t.Fatalf("err = %v, want ErrNonFinite", err)
	}
	names, _ := listCheckpoints(dir)
	if len(names) != 1 || result.Checkpoint == "" {
		t.Fatalf("checkpoints %v, result %q: want the one of epoch 1", names, result.Checkpoint)
	}
	for _, want := range []string{"step 6", names[0]} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
	t.Log(err)
}

func TestSIGINTInterruptsAtStepBoundary(t *testing.T) {
	result, err := smallRun(t, context.New(), t.TempDir()).Epochs(2).
		OnStep(func(step int, _ float64) error {
			if step == 2 {
				return syscall.Kill(os.Getpid(), syscall.SIGINT)
			}
			return nil
		}).Run()
	if !errors.Is(err, ErrInterrupted) {
		t.Fatalf("err = %v, want ErrInterrupted", err)
	}
	// The signal arrives asynchronously: the run stops at the first boundary after it.
	if result.Steps < 2 || result.Steps > 4 || result.Checkpoint == "" {
		t.Errorf("stopped at step %d with checkpoint %q, want a step in [2, 4] and a checkpoint",
			result.Steps, result.Checkpoint)
	}
	t.Log(err)
}

func TestSamplesEveryEpoch(t *testing.T) {
	sample := tensors.FromValue(images(9, 2, 8))
	var epochs []int
	_, err := smallRun(t, context.New(), t.TempDir()).Epochs(2).
		Samples(sample, func(epoch int, outputs *tensors.Tensor) error {
			epochs = append(epochs, epoch)
			if got := outputs.Shape().Dimensions; got[0] != 2 || got[1] != 8 || got[3] != 1 {
				t.Errorf("samples output shape %v", got)
			}
			return nil
		}).Run()
	if err != nil {
		t.Fatal(err)
	}
	if len(epochs) != 2 || epochs[0] != 1 || epochs[1] != 2 {
		t.Errorf("samples hook saw epochs %v, want [1 2]", epochs)
	}
}

func TestBadConfigErrors(t *testing.T) {
	b := testBackend(t)
	if _, err := New(b, context.New(), smallModel).Run(); err == nil {
		t.Error("Run without data succeeded")
	}
	ds := denoisingData(t, 1, 4, 8)
	if _, err := New(b, context.New(), smallModel).Data(ds, nil).BatchSize(8).Run(); err == nil {
		t.Error("batch larger than the data accepted")
	}
	if _, err := New(b, context.New(), smallModel).Data(ds, nil).BatchSize(2).
		Track("psnr", true).Run(); err == nil {
		t.Error("tracking an evaluation value without evaluation data accepted")
	}
}

func TestSaveCutShortLeavesNoCheckpoint(t *testing.T) {
	dir := t.TempDir()
	if _, err := smallRun(t, context.New(), dir).Epochs(1).Run(); err != nil {
		t.Fatal(err)
	}
	// A save cut short: a newer data file without its metadata, and staging leftovers.
	orphan := filepath.Join(dir, "checkpoint-n0000099-20000101-000000-step-00000099.bin")
	if err := os.WriteFile(orphan, []byte("partial"), 0o644); err != nil {
		t.Fatal(err)
	}
	leftover := filepath.Join(dir, stagingDir, "checkpoint-n0000098-x.json")
	if err := os.WriteFile(leftover, []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	result, err := smallRun(t, context.New(), dir).Epochs(2).Run()
	if err != nil {
		t.Fatal(err)
	}
	if len(result.History) != 1 || result.Epochs != 2 {
		t.Errorf("resumed run did %d epochs, reaching %d; want 1 and 2", len(result.History),
			result.Epochs)
	}
	for _, path := range []string{orphan, leftover} {
		if _, err := os.Stat(path); !os.IsNotExist(err) {
			t.Errorf("%s still there (%v)", filepath.Base(path), err)
		}
	}
}
