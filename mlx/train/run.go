package train

import (
	stdcontext "context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"os"
	"time"

	"github.com/dlexp/dlexp/mlx/metrics"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
	gomlxtrain "github.com/gomlx/gomlx/pkg/ml/train"
	"github.com/gomlx/gomlx/pkg/ml/train/optimizers"
)

// Hook priorities on the GoMLX loop: the loss check first, the epoch work, the interrupt
// check last (so an interrupt never falls between a step and its epoch's end).
const (
	priorityGuard     gomlxtrain.Priority = -1000
	priorityEpoch     gomlxtrain.Priority = 0
	priorityInterrupt gomlxtrain.Priority = 1000
)

// errEarlyStop ends the GoMLX loop from a hook when early stopping triggers.
var errEarlyStop = errors.New("train: early stop")

// stateScope holds the run's own state as context variables, so that checkpoints carry it.
const stateScope = "/dlexp_train"

// run is one execution of a Config.
type run struct {
	*Config
	stop   stdcontext.Context
	result *Result

	// Data and execution.
	data           *epochData
	ownedTensors   []*tensors.Tensor
	ckpt           *checkpointer
	trainer        *gomlxtrain.Trainer
	evalExec       *context.Exec
	sampleExec     *context.Exec
	bar            *progressBar
	epochStartTime time.Time

	// Tracked state, saved in checkpoints (see saveState).
	dataSeed   int64
	epochsDone int
	epochStart int // global step at which the current epoch started
	lossSum    float64
	lossSteps  int
	best       float64
	bestEpoch  int
	badStop    int
	badPlateau int
	savedStep  int // global step of the newest checkpoint, -1 if none this run
}

// prepare loads the checkpoint (if any), restores the run state, builds the data and the
// trainer, and positions the data where the previous run stopped.
func (r *run) prepare() error {
	if r.learningRate > 0 {
		r.ctx.SetParam(ParamLearningRate, r.learningRate)
	}
	if r.seedSet {
		r.ctx.SetParam(ParamSeed, r.seed)
	}
	if !r.trackSet {
		r.track = TrainLoss
		if r.evalData != nil {
			r.track = "loss"
		}
		r.higherIsBetter = isHigherBetter(r.track)
	}
	if r.track != TrainLoss && r.evalData == nil {
		return fmt.Errorf("train: tracked value %q needs evaluation data", r.track)
	}
	if r.evalBatchSize <= 0 {
		r.evalBatchSize = r.batchSize
	}
	showBar := isTerminal(os.Stderr)
	if r.progress != nil {
		showBar = *r.progress
	}
	if showBar {
		r.bar = newProgressBar(os.Stderr)
	}
	r.savedStep = -1

	if r.checkpointDir != "" {
		var err error
		if r.ckpt, err = openCheckpoints(r.ctx, r.checkpointDir, r.keep); err != nil {
			return err
		}
	}
	if err := r.loadState(); err != nil {
		return err
	}

	inputs, labels, err := wholeSet(r.trainData)
	if err != nil {
		return err
	}
	r.ownedTensors = append(r.ownedTensors, inputs)
	if labels != inputs {
		r.ownedTensors = append(r.ownedTensors, labels)
	}
	r.data, err = newEpochData(r.backend, inputs, labels, r.batchSize, uint64(r.dataSeed))
	if err != nil {
		return err
	}

	var globalStep int
	if err := recoverError(func() { globalStep = int(optimizers.GetGlobalStep(r.ctx)) }); err != nil {
		return fmt.Errorf("train: reading global step: %w", err)
	}
	position := globalStep - r.epochStart
	if position < 0 || position >= r.data.stepsPerEpoch {
		// The data or batch size changed since the checkpoint: start a fresh epoch.
		slog.Warn("train: checkpoint position does not match the data; starting a new epoch",
			"step", globalStep, "epoch_start", r.epochStart)
		position, r.epochStart, r.lossSum, r.lossSteps = 0, globalStep, 0, 0
	}
	r.data.seek(r.epochsDone, position)
	r.result.Steps, r.result.Epochs = globalStep, r.epochsDone

	r.trainer = gomlxtrain.NewTrainer(r.backend, r.ctx, r.modelFn, r.lossFn,
		optimizers.Adam().FromContext(r.ctx).Done(), nil, nil)
	if globalStep > 0 {
		r.trainer.SetContext(r.ctx.Reuse())
	}
	return nil
}

// train runs the GoMLX loop for the steps left and interprets how it ended.
func (r *run) train() (*Result, error) {
	globalStep := r.result.Steps
	remaining := (r.epochs-r.epochsDone)*r.data.stepsPerEpoch - (globalStep - r.epochStart)
	r.result.Track = r.track
	r.fillResult()
	if remaining <= 0 {
		slog.Info("train: nothing to do", "epochs_done", r.epochsDone, "epochs", r.epochs)
		return r.result, nil
	}

	loop := gomlxtrain.NewLoop(r.trainer)
	loop.OnStep("dlexp: loss check", priorityGuard, r.checkLoss)
	loop.OnStep("dlexp: epoch", priorityEpoch, r.onStepEpoch)
	loop.OnStep("dlexp: interrupt", priorityInterrupt, r.checkInterrupt)
	for _, fn := range r.onLoop {
		fn(loop)
	}
	r.logStart(globalStep)
	r.epochStartTime = time.Now()

	var err error
	if perr := recoverError(func() { _, err = loop.RunSteps(r.data, remaining) }); perr != nil {
		// Graph building reports a model that does not fit its data by panicking.
		err = fmt.Errorf("building or running the training step: %w", perr)
	}
	r.result.StepTime = loop.MedianTrainStepDuration()
	r.fillResult()
	switch {
	case err == nil:
	case errors.Is(err, errEarlyStop):
		r.result.StoppedEarly = true
		err = nil
	case errors.Is(err, ErrInterrupted):
		r.result.Interrupted = true
		err = fmt.Errorf("%w at step %d (epoch %d); checkpoint: %s", ErrInterrupted,
			r.result.Steps, r.epochsDone+1, orNone(r.result.Checkpoint))
	case errors.Is(err, ErrNonFinite):
		err = unwrapTo(err, ErrNonFinite)
	default:
		err = fmt.Errorf("train: %w", err)
	}
	if r.bar != nil && err == nil {
		r.bar.line("done: %d epochs, %d steps, %s %s %.5g (epoch %d), %.3gs/step",
			r.result.Epochs, r.result.Steps, r.track, bestWord(r.higherIsBetter), r.best,
			r.bestEpoch, r.result.StepTime.Seconds())
	}
	return r.result, err
}

// modelFn adapts the Model to GoMLX's model function.
func (r *run) modelFn(ctx *context.Context, _ any, inputs []*graph.Node) []*graph.Node {
	return []*graph.Node{r.model(ctx, inputs[0])}
}

// lossFn adapts the Loss to GoMLX's loss function.
func (r *run) lossFn(labels, predictions []*graph.Node) *graph.Node {
	return r.loss(labels[0], predictions[0])
}

// checkLoss stops on a NaN or infinite loss before any other hook can save the state.
func (r *run) checkLoss(loop *gomlxtrain.Loop, ms []*tensors.Tensor) error {
	loss := scalarValue(ms[0])
	if math.IsNaN(loss) || math.IsInf(loss, 0) {
		step := loop.LoopStep + 1
		last := "none"
		if r.ckpt != nil && r.ckpt.last != "" {
			last = r.ckpt.last
		}
		return fmt.Errorf("%w: loss %v at step %d (epoch %d); last good checkpoint: %s",
			ErrNonFinite, loss, step, r.epochsDone+1, last)
	}
	return nil
}

// onStepEpoch accumulates the epoch's loss, calls the step hooks, draws progress and, after
// an epoch's last step, does the epoch's work.
func (r *run) onStepEpoch(loop *gomlxtrain.Loop, ms []*tensors.Tensor) error {
	step := loop.LoopStep + 1
	loss := scalarValue(ms[0])
	r.lossSum += loss
	r.lossSteps++
	r.result.Steps = step
	for _, fn := range r.onStep {
		if err := fn(step, loss); err != nil {
			return err
		}
	}
	inEpoch := step - r.epochStart
	if r.bar != nil {
		r.bar.step(r.epochsDone+1, r.epochs, inEpoch, r.data.stepsPerEpoch,
			r.lossSum/float64(r.lossSteps), loop.MedianTrainStepDuration(), false)
	}
	if inEpoch < r.data.stepsPerEpoch {
		return nil
	}
	return r.endEpoch(step)
}

// endEpoch evaluates, feeds the hooks, updates tracking, the learning rate and checkpoints.
func (r *run) endEpoch(step int) error {
	r.epochsDone++
	epoch := r.epochsDone
	trainLoss := r.lossSum / float64(max(r.lossSteps, 1))

	var values metrics.Values
	if r.evalData != nil {
		var err error
		if values, err = r.evaluate(); err != nil {
			return err
		}
	}
	if r.samples != nil {
		outputs, err := r.runSamples()
		if err != nil {
			return err
		}
		if err := r.onSamples(epoch, outputs); err != nil {
			return err
		}
	}

	// Tracking, plateau and early-stopping counters.
	current := trainLoss
	if r.track != TrainLoss {
		v, ok := values[r.track]
		if !ok {
			return fmt.Errorf("train: tracked value %q not among the evaluation values (%s)",
				r.track, values)
		}
		current = v
	}
	improved := r.better(current, r.best)
	if improved {
		r.best, r.bestEpoch, r.badStop, r.badPlateau = current, epoch, 0, 0
	} else {
		r.badStop++
		r.badPlateau++
	}
	lr := r.currentLearningRate()
	if r.plateauPatience > 0 && r.badPlateau >= r.plateauPatience {
		newLR := max(lr*r.plateauFactor, r.minLearningRate)
		if newLR < lr {
			if err := r.setLearningRate(newLR); err != nil {
				return err
			}
			slog.Info("train: plateau, learning rate lowered", "epoch", epoch, "from", lr,
				"to", newLR)
			lr = newLR
		}
		r.badPlateau = 0
	}
	r.epochStart, r.lossSum, r.lossSteps = step, 0, 0

	// Checkpoint, then the caller's hooks.
	if r.ckpt != nil {
		path, err := r.saveCheckpoint(step)
		if err != nil {
			return err
		}
		if improved {
			if err := r.ckpt.markBest(path); err != nil {
				return err
			}
		}
	}
	record := Epoch{Epoch: epoch, TrainLoss: trainLoss, Eval: values, LearningRate: lr,
		Duration: time.Since(r.epochStartTime)}
	r.result.History = append(r.result.History, record)
	r.fillResult()
	for _, fn := range r.onEpoch {
		if err := fn(epoch, trainLoss, values); err != nil {
			return err
		}
	}
	slog.Info("train: epoch", "epoch", epoch, "train_loss", trainLoss, "eval", values.String(),
		"learning_rate", lr, "seconds", record.Duration.Seconds())
	if r.bar != nil {
		r.bar.line("epoch %d/%d train loss %.5g %s (%.1fs)", epoch, r.epochs, trainLoss,
			values.String(), record.Duration.Seconds())
	}
	r.epochStartTime = time.Now()
	if r.stopPatience > 0 && r.badStop >= r.stopPatience {
		slog.Info("train: early stop", "epoch", epoch, "best_epoch", r.bestEpoch, r.track, r.best)
		return errEarlyStop
	}
	return nil
}

// checkInterrupt ends the loop at this step boundary when the run is interrupted, after
// saving a checkpoint.
func (r *run) checkInterrupt(loop *gomlxtrain.Loop, _ []*tensors.Tensor) error {
	select {
	case <-r.stop.Done():
	default:
		return nil
	}
	step := loop.LoopStep + 1
	if r.ckpt != nil && r.savedStep != step {
		if _, err := r.saveCheckpoint(step); err != nil {
			return err
		}
	}
	slog.Info("train: interrupted", "step", step)
	if r.bar != nil {
		r.bar.line("interrupted at step %d", step)
	}
	return ErrInterrupted
}

// saveCheckpoint stores the run state in the context and writes a checkpoint.
func (r *run) saveCheckpoint(step int) (string, error) {
	if err := r.saveState(); err != nil {
		return "", err
	}
	path, err := r.ckpt.save()
	if err != nil {
		return "", err
	}
	r.savedStep = step
	r.result.Checkpoint = path
	return path, nil
}

// evaluate runs the model in inference over the evaluation data and returns the mean loss
// and the metrics' values.
func (r *run) evaluate() (metrics.Values, error) {
	if r.evalExec == nil {
		exec, err := context.NewExec(r.backend, r.ctx.Reuse(), r.evalGraph)
		if err != nil {
			return nil, fmt.Errorf("train: evaluation graph: %w", err)
		}
		r.evalExec = exec
	}
	var sums [][]float64
	err := evalBatches(r.evalData, r.evalBatchSize, func(inputs, labels *tensors.Tensor) error {
		outs, err := r.evalExec.Exec(inputs, labels)
		if err != nil {
			return fmt.Errorf("train: evaluation: %w", err)
		}
		if sums == nil {
			sums = make([][]float64, len(outs))
		}
		for i, out := range outs {
			values := tensors.MustCopyFlatData[float32](out)
			if sums[i] == nil {
				sums[i] = make([]float64, len(values))
			}
			for j, v := range values {
				sums[i][j] += float64(v)
			}
			out.MustFinalizeAll()
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if sums == nil {
		return nil, errors.New("train: evaluation data is empty")
	}
	values := metrics.Values{"loss": sums[0][0] / sums[0][1]}
	for i, m := range r.evalMetrics {
		for name, v := range m.Values(sums[i+1]) {
			values[name] = v
		}
	}
	return values, nil
}

// evalGraph builds one evaluation batch: [loss*batch, batch], then each metric's statistics.
func (r *run) evalGraph(ctx *context.Context, x, y *graph.Node) []*graph.Node {
	predictions := r.model(ctx, x)
	batch := float64(x.Shape().Dimensions[0])
	loss := graph.ConvertDType(r.loss(y, predictions), dtypes.Float32)
	g := x.Graph()
	outs := []*graph.Node{graph.Stack([]*graph.Node{
		graph.MulScalar(loss, batch), graph.Scalar(g, dtypes.Float32, batch)}, 0)}
	for _, m := range r.evalMetrics {
		outs = append(outs, graph.ConvertDType(m.BatchStats(y, predictions), dtypes.Float32))
	}
	return outs
}

// runSamples runs the model in inference on the fixed sample batch.
func (r *run) runSamples() (*tensors.Tensor, error) {
	if r.sampleExec == nil {
		exec, err := context.NewExec(r.backend, r.ctx.Reuse(),
			func(ctx *context.Context, x *graph.Node) *graph.Node { return r.model(ctx, x) })
		if err != nil {
			return nil, fmt.Errorf("train: samples graph: %w", err)
		}
		r.sampleExec = exec
	}
	outs, err := r.sampleExec.Exec(r.samples)
	if err != nil {
		return nil, fmt.Errorf("train: samples: %w", err)
	}
	return outs[0], nil
}

// learningRateVar returns the optimizer's learning-rate variable, nil before it exists.
func (r *run) learningRateVar() *context.Variable {
	return r.ctx.In(optimizers.Scope).GetVariable(optimizers.ParamLearningRate)
}

// currentLearningRate returns the learning rate in use.
func (r *run) currentLearningRate() float64 {
	if v := r.learningRateVar(); v != nil {
		if t, err := v.Value(); err == nil {
			return scalarValue(t)
		}
	}
	return context.GetParamOr(r.ctx, ParamLearningRate, optimizers.AdamDefaultLearningRate)
}

// setLearningRate changes the learning rate for the next steps: the variable the compiled
// step reads and the hyperparameter a resumed run starts from.
func (r *run) setLearningRate(lr float64) error {
	r.ctx.SetParam(ParamLearningRate, lr)
	v := r.learningRateVar()
	if v == nil {
		return nil
	}
	t := tensors.FromAnyValue(shapes.CastAsDType(lr, v.Shape().DType))
	if err := v.SetValue(t); err != nil {
		return fmt.Errorf("train: setting learning rate: %w", err)
	}
	return nil
}

// stateVar returns a run-state variable, loaded from the checkpoint when there is one.
func (r *run) stateVar(name string, initial any) *context.Variable {
	return r.ctx.InAbsPath(stateScope).Checked(false).VariableWithValue(name, initial).
		SetTrainable(false)
}

// loadState restores the run state from the context (a loaded checkpoint) or starts it.
func (r *run) loadState() error {
	return recoverError(func() {
		seedVar := r.ctx.InAbsPath(stateScope).GetVariable("data_seed")
		if seedVar != nil {
			r.dataSeed = int64Value(seedVar)
		} else {
			r.dataSeed = context.GetParamOr(r.ctx, ParamSeed, int64(0))
			if r.dataSeed == 0 {
				r.dataSeed = rand.Int64()
			}
		}
		r.epochsDone = int(int64Value(r.stateVar("epochs_done", int64(0))))
		r.epochStart = int(int64Value(r.stateVar("epoch_start_step", int64(0))))
		r.lossSum = scalarValue(r.stateVar("epoch_loss_sum", 0.0).MustValue())
		r.lossSteps = int(int64Value(r.stateVar("epoch_loss_steps", int64(0))))
		r.best = scalarValue(r.stateVar("best", math.NaN()).MustValue())
		r.bestEpoch = int(int64Value(r.stateVar("best_epoch", int64(0))))
		r.badStop = int(int64Value(r.stateVar("epochs_without_improvement", int64(0))))
		r.badPlateau = int(int64Value(r.stateVar("epochs_on_plateau", int64(0))))
		if r.ckpt != nil && r.ckpt.best != "" {
			r.result.BestCheckpoint = r.ckpt.best
		}
		if r.ckpt != nil {
			r.result.Checkpoint = r.ckpt.last
		}
	})
}

// saveState writes the run state into the context's state variables.
func (r *run) saveState() error {
	set := map[string]any{
		"data_seed":                  r.dataSeed,
		"epochs_done":                int64(r.epochsDone),
		"epoch_start_step":           int64(r.epochStart),
		"epoch_loss_sum":             r.lossSum,
		"epoch_loss_steps":           int64(r.lossSteps),
		"best":                       r.best,
		"best_epoch":                 int64(r.bestEpoch),
		"epochs_without_improvement": int64(r.badStop),
		"epochs_on_plateau":          int64(r.badPlateau),
	}
	return recoverError(func() {
		for name, value := range set {
			if err := r.stateVar(name, value).SetValue(tensors.FromAnyValue(value)); err != nil {
				panic(err)
			}
		}
	})
}

// fillResult copies the tracking state into the result.
func (r *run) fillResult() {
	r.result.Epochs = r.epochsDone
	r.result.Best, r.result.BestEpoch = r.best, r.bestEpoch
	if r.ckpt != nil {
		r.result.Checkpoint, r.result.BestCheckpoint = r.ckpt.last, r.ckpt.best
	}
}

// close frees what the run built.
func (r *run) close() {
	if r.data != nil {
		r.data.finalize()
	}
	for _, t := range r.ownedTensors {
		t.FinalizeAll()
	}
	if r.evalExec != nil {
		r.evalExec.Finalize()
	}
	if r.sampleExec != nil {
		r.sampleExec.Finalize()
	}
}

// scalarValue converts a scalar tensor to float64.
func scalarValue(t *tensors.Tensor) float64 {
	return shapes.ConvertTo[float64](t.Value())
}

// int64Value reads an int64 scalar variable.
func int64Value(v *context.Variable) int64 {
	return int64(scalarValue(v.MustValue()))
}

// recoverError runs fn, turning a panic (GoMLX's way of reporting graph and context errors)
// into an error.
func recoverError(fn func()) (err error) {
	defer func() {
		if p := recover(); p != nil {
			if e, ok := p.(error); ok {
				err = e
				return
			}
			err = fmt.Errorf("%v", p)
		}
	}()
	fn()
	return nil
}

// unwrapTo returns the first error in err's chain that wraps target directly, dropping the
// GoMLX loop's wrapping messages.
func unwrapTo(err, target error) error {
	for e := err; e != nil; e = errors.Unwrap(e) {
		if u, ok := e.(interface{ Unwrap() error }); ok && u.Unwrap() == target {
			return e
		}
	}
	return err
}

// orNone returns s, or "none" when s is empty.
func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// bestWord says "max" or "min" for the progress summary.
func bestWord(higherIsBetter bool) string {
	if higherIsBetter {
		return "max"
	}
	return "min"
}
