// Package train trains the zoo's models from a notebook or from Go, on GoMLX's train.Trainer
// and train.Loop: Adam, epochs over an in-memory dataset, an evaluation after each epoch,
// early stopping, learning-rate lowering on plateaus, atomic checkpoints with exact resume,
// clean interruption and a stop on a non-finite loss.
//
// Everything that is not the training step is a hook on the GoMLX loop, and the caller adds
// its own: OnEpoch (epoch, train loss, evaluation values) feeds charts, Samples runs the model
// on a fixed batch after each epoch (frames of a GIF), OnStep sees every step's loss, and
// OnLoop reaches the GoMLX loop itself.
//
//	result, err := train.New(backend, ctx, func(ctx *context.Context, x *graph.Node) *graph.Node {
//		return unet.Denoiser(ctx, x).Done()
//	}).Loss(metrics.MSE).Data(trainDS, testDS).Metrics(metrics.PSNRMetric(1)).
//		Epochs(10).BatchSize(64).Checkpoints("out/denoiser").Run()
//
// Hyperparameters read from the context, as defaults the methods override: "batch_size"
// (default 32), "learning_rate" (default 1e-3) and "initializers_seed" (the seed of both the
// initial weights and the data order; random when unset).
//
// Progress: in a terminal, a bar on standard error; elsewhere (a notebook) nothing but the
// caller's hooks. A log record at the start names the backend (see package logs).
package train

import (
	stdcontext "context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"os/signal"
	"time"

	"github.com/dlexp/dlexp/mlx/logs"
	"github.com/dlexp/dlexp/mlx/metrics"
	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/gomlx/gomlx/pkg/ml/datasets"
	gomlxtrain "github.com/gomlx/gomlx/pkg/ml/train"
)

// Context hyperparameters read as defaults.
const (
	// ParamBatchSize is the training batch size (int, default 32).
	ParamBatchSize = "batch_size"

	// ParamLearningRate is Adam's learning rate (float64, default 1e-3).
	ParamLearningRate = "learning_rate"

	// ParamSeed seeds the initial weights and the data order (int64; random when unset).
	ParamSeed = "initializers_seed"
)

// TrainLoss is the name under which the tracked metric can be the training loss.
const TrainLoss = "train_loss"

// Errors a run can end with; test them with errors.Is.
var (
	// ErrInterrupted: the run was interrupted (SIGINT or a cancelled context) and stopped at a
	// step boundary, after saving a checkpoint when a checkpoint directory is set.
	ErrInterrupted = errors.New("train: interrupted")

	// ErrNonFinite: the loss became NaN or infinite; the error names the step and the last
	// good checkpoint.
	ErrNonFinite = errors.New("train: loss is not finite")
)

// Model maps a batch of inputs to predictions (logits for classification). It is called with
// the context in training mode for training steps and in inference mode for evaluation.
type Model func(ctx *context.Context, x *graph.Node) *graph.Node

// Loss maps labels and predictions to a scalar loss, as metrics.MSE and
// metrics.SoftmaxCrossEntropy do.
type Loss func(labels, predictions *graph.Node) *graph.Node

// EpochFn is called after each epoch with its number (from 1, counting resumed runs), the
// mean training loss of its steps and the evaluation values ("loss" and those of the
// metrics; nil without evaluation data). An error stops training and is returned by Run.
type EpochFn func(epoch int, trainLoss float64, eval metrics.Values) error

// StepFn is called after each training step with the global step (from 1) and its loss. An
// error stops training and is returned by Run.
type StepFn func(step int, loss float64) error

// SamplesFn receives, after each epoch, the model's outputs (in inference mode) on the fixed
// batch given to Samples. It may keep the tensor.
type SamplesFn func(epoch int, outputs *tensors.Tensor) error

// Config is a training run under construction: create it with New, configure it with the
// methods and start it with Run or RunContext.
type Config struct {
	backend backends.Backend
	ctx     *context.Context
	model   Model
	loss    Loss

	// Data.
	trainData, evalData      *datasets.InMemoryDataset
	batchSize, evalBatchSize int
	epochs                   int
	seed                     int64
	seedSet                  bool

	// Optimization.
	learningRate    float64
	plateauPatience int
	plateauFactor   float64
	minLearningRate float64

	// Evaluation and tracking.
	evalMetrics    []metrics.Metric
	track          string
	higherIsBetter bool
	trackSet       bool
	stopPatience   int

	// Checkpoints.
	checkpointDir string
	keep          int

	// Hooks and display.
	samples         *tensors.Tensor
	onSamples       SamplesFn
	onEpoch         []EpochFn
	onStep          []StepFn
	onLoop          []func(*gomlxtrain.Loop)
	progress        *bool
	handleInterrupt bool
}

// New starts the configuration of a run training model in ctx on backend, with defaults:
// MSE loss, 1 epoch, Adam, batch size from the context, 3 checkpoints kept when a checkpoint
// directory is set, SIGINT handled.
func New(backend backends.Backend, ctx *context.Context, model Model) *Config {
	return &Config{
		backend:         backend,
		ctx:             ctx,
		model:           model,
		loss:            metrics.MSE,
		batchSize:       context.GetParamOr(ctx, ParamBatchSize, 32),
		epochs:          1,
		plateauFactor:   0.5,
		minLearningRate: 1e-7,
		keep:            3,
		handleInterrupt: true,
	}
}

// Loss sets the loss (default metrics.MSE).
func (c *Config) Loss(loss Loss) *Config {
	c.loss = loss
	return c
}

// Data sets the training data and the evaluation data (nil for none). Each yields one
// input tensor and one label tensor per example (or inputs only, which then are the labels
// too, as for an autoencoder). The training examples are copied once into a single tensor
// that is batched in an order drawn from the seed for each epoch.
func (c *Config) Data(train, eval *datasets.InMemoryDataset) *Config {
	c.trainData, c.evalData = train, eval
	return c
}

// Epochs sets the number of epochs to reach, counting those of a resumed run (default 1).
func (c *Config) Epochs(n int) *Config {
	c.epochs = n
	return c
}

// BatchSize sets the training batch size; incomplete batches at the end of an epoch are
// dropped.
func (c *Config) BatchSize(n int) *Config {
	c.batchSize = n
	return c
}

// EvalBatchSize sets the evaluation batch size (default: the training batch size).
func (c *Config) EvalBatchSize(n int) *Config {
	c.evalBatchSize = n
	return c
}

// Seed fixes the seed of the initial weights and of the data order.
func (c *Config) Seed(seed int64) *Config {
	c.seed, c.seedSet = seed, true
	return c
}

// LearningRate sets Adam's learning rate (a resumed run keeps the checkpoint's).
func (c *Config) LearningRate(lr float64) *Config {
	c.learningRate = lr
	return c
}

// Metrics adds evaluation metrics, computed over the whole evaluation set after each epoch.
func (c *Config) Metrics(ms ...metrics.Metric) *Config {
	c.evalMetrics = append(c.evalMetrics, ms...)
	return c
}

// Track names the value that early stopping, plateaus and the best checkpoint follow: an
// evaluation value ("loss", "psnr", "mean_iou", ...) or TrainLoss. The default is the
// evaluation loss, or the training loss without evaluation data; higherIsBetter says which
// way is good.
func (c *Config) Track(name string, higherIsBetter bool) *Config {
	c.track, c.higherIsBetter, c.trackSet = name, higherIsBetter, true
	return c
}

// EarlyStopping stops training after patience epochs without improvement of the tracked value
// (0 turns it off, the default).
func (c *Config) EarlyStopping(patience int) *Config {
	c.stopPatience = patience
	return c
}

// Plateau multiplies the learning rate by factor (in (0, 1)) after patience epochs without
// improvement of the tracked value, and again after each further patience epochs, down to
// 1e-7 (patience 0 turns it off, the default).
func (c *Config) Plateau(patience int, factor float64) *Config {
	c.plateauPatience, c.plateauFactor = patience, factor
	return c
}

// Checkpoints saves a checkpoint in dir after each epoch and on interruption, keeping the
// newest keep (default 3) and the best one (under dir/best). A run whose dir already holds a
// checkpoint resumes from it: same weights, optimizer state, random state, data order and
// tracking state, so it ends with the weights an uninterrupted run would have.
func (c *Config) Checkpoints(dir string) *Config {
	c.checkpointDir = dir
	return c
}

// Keep sets how many of the newest checkpoints are kept (besides the best).
func (c *Config) Keep(n int) *Config {
	c.keep = n
	return c
}

// Samples runs the model in inference mode on the fixed batch inputs after each epoch and
// hands the outputs to fn (for instance to add a frame to a GIF).
func (c *Config) Samples(inputs *tensors.Tensor, fn SamplesFn) *Config {
	c.samples, c.onSamples = inputs, fn
	return c
}

// OnEpoch adds a hook called after each epoch (after evaluation and checkpoint).
func (c *Config) OnEpoch(fn EpochFn) *Config {
	c.onEpoch = append(c.onEpoch, fn)
	return c
}

// OnStep adds a hook called after each training step.
func (c *Config) OnStep(fn StepFn) *Config {
	c.onStep = append(c.onStep, fn)
	return c
}

// OnLoop adds a function called with the GoMLX loop before training starts, to attach GoMLX
// tools or hooks of one's own.
func (c *Config) OnLoop(fn func(loop *gomlxtrain.Loop)) *Config {
	c.onLoop = append(c.onLoop, fn)
	return c
}

// Progress forces the terminal progress bar on or off (default: on when standard error is a
// terminal).
func (c *Config) Progress(on bool) *Config {
	c.progress = &on
	return c
}

// HandleInterrupt sets whether SIGINT interrupts the run cleanly (default true); without it,
// only the context given to RunContext can.
func (c *Config) HandleInterrupt(on bool) *Config {
	c.handleInterrupt = on
	return c
}

// Epoch is what one epoch gave.
type Epoch struct {
	// Epoch is the epoch's number, from 1, counting resumed runs.
	Epoch int
	// TrainLoss is the mean loss of its training steps.
	TrainLoss float64
	// Eval holds the evaluation values; nil without evaluation data.
	Eval metrics.Values
	// LearningRate is the learning rate after the epoch (lowered on a plateau).
	LearningRate float64
	// Duration is the wall time of the epoch, evaluation included.
	Duration time.Duration
}

// Result describes a finished (or stopped) run.
type Result struct {
	// History holds the epochs completed by this run.
	History []Epoch
	// Epochs is the number of epochs completed, counting resumed runs; Steps the global step.
	Epochs, Steps int

	// Track names the tracked value; Best is its best value, reached at epoch BestEpoch
	// (0 if no epoch completed).
	Track     string
	Best      float64
	BestEpoch int

	// StoppedEarly is set when early stopping ended the run; Interrupted when an interrupt did.
	StoppedEarly, Interrupted bool

	// Checkpoint and BestCheckpoint are the base paths (without .json/.bin) of the newest and
	// of the best checkpoint; "" without a checkpoint directory.
	Checkpoint, BestCheckpoint string

	// StepTime is the median wall time of a training step in this run.
	StepTime time.Duration
}

// Run trains until the configured number of epochs, early stopping, an interrupt (SIGINT,
// unless HandleInterrupt(false)) or an error.
func (c *Config) Run() (*Result, error) {
	return c.RunContext(stdcontext.Background())
}

// RunContext is Run, also interrupted when ctx is cancelled.
func (c *Config) RunContext(ctx stdcontext.Context) (result *Result, err error) {
	logs.Setup()
	if err := c.validate(); err != nil {
		return nil, err
	}
	if c.handleInterrupt {
		var stop stdcontext.CancelFunc
		ctx, stop = signal.NotifyContext(ctx, os.Interrupt)
		defer stop()
	}
	r := &run{Config: c, stop: ctx, result: &Result{}}
	defer r.close()
	if err := r.prepare(); err != nil {
		return nil, err
	}
	return r.train()
}

// validate checks the configuration before anything is built.
func (c *Config) validate() error {
	switch {
	case c.backend == nil || c.ctx == nil || c.model == nil:
		return errors.New("train: New needs a backend, a context and a model")
	case c.loss == nil:
		return errors.New("train: no loss")
	case c.trainData == nil:
		return errors.New("train: no training data (use Data)")
	case c.epochs < 1:
		return fmt.Errorf("train: epochs must be >= 1, got %d", c.epochs)
	case c.batchSize < 1:
		return fmt.Errorf("train: batch size must be >= 1, got %d", c.batchSize)
	case c.plateauPatience > 0 && (c.plateauFactor <= 0 || c.plateauFactor >= 1):
		return fmt.Errorf("train: plateau factor must be in (0, 1), got %g", c.plateauFactor)
	case c.samples != nil && c.onSamples == nil:
		return errors.New("train: Samples needs a function to receive the outputs")
	}
	return nil
}

// isHigherBetter guesses the direction of a tracked value from its name.
func isHigherBetter(name string) bool {
	switch name {
	case "accuracy", "mean_iou", "psnr", "ssim":
		return true
	}
	return len(name) > 4 && name[:4] == "iou/"
}

// better reports whether value improves on best in the tracked direction.
func (c *Config) better(value, best float64) bool {
	if math.IsNaN(best) {
		return !math.IsNaN(value)
	}
	if c.higherIsBetter {
		return value > best
	}
	return value < best
}

// logStart writes the start record naming the backend.
func (r *run) logStart(resumedAt int) {
	slog.Info("train: start", "backend", r.backend.Name(), "device", r.backend.Description(),
		"epochs", r.epochs, "steps_per_epoch", r.data.stepsPerEpoch, "batch", r.batchSize,
		"resumed_at_step", resumedAt, "checkpoints", r.checkpointDir)
	if r.bar != nil {
		r.bar.line("training on %s (%s), %d steps/epoch of %d", r.backend.Name(),
			r.backend.Description(), r.data.stepsPerEpoch, r.batchSize)
	}
}
