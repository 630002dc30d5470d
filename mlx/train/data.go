package train

import (
	"fmt"
	"io"
	"math/rand/v2"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/datasets"
)

// wholeSet returns all the examples of ds as one inputs tensor and one labels tensor (the
// inputs again when ds has no labels), in the dataset's stored order.
func wholeSet(ds *datasets.InMemoryDataset) (inputs, labels *tensors.Tensor, err error) {
	n := ds.NumExamples()
	if n == 0 {
		return nil, nil, fmt.Errorf("train: dataset %q is empty", ds.Name())
	}
	all := ds.Copy().BatchSize(n, false)
	_, in, lab, err := all.Yield()
	if err != nil {
		return nil, nil, fmt.Errorf("train: reading dataset %q: %w", ds.Name(), err)
	}
	if len(in) != 1 || len(lab) > 1 {
		return nil, nil, fmt.Errorf("train: dataset %q yields %d inputs and %d labels, "+
			"want 1 input and at most 1 label", ds.Name(), len(in), len(lab))
	}
	inputs, labels = in[0], in[0]
	if len(lab) == 1 {
		labels = lab[0]
	}
	return inputs, labels, nil
}

// epochData is the training dataset: it yields full batches of a fixed size, in an order
// drawn afresh for each epoch from (seed, epoch) alone, so that a run resumed at any step
// sees exactly the batches an uninterrupted run would. The last incomplete batch of an epoch
// is dropped (a new batch shape would compile a new graph); reshuffling spreads the dropped
// examples over the epochs.
type epochData struct {
	inputs, labels *tensors.Tensor
	gather         *graph.Exec

	numExamples   int
	batchSize     int
	stepsPerEpoch int
	seed          uint64

	// Position: epoch (0-based, absolute over resumed runs) and step within it.
	epoch, step int
	order       []int
}

// newEpochData prepares batches of batchSize from inputs and labels.
func newEpochData(backend backends.Backend, inputs, labels *tensors.Tensor, batchSize int,
	seed uint64) (*epochData, error) {
	n := inputs.Shape().Dimensions[0]
	if labels.Shape().Dimensions[0] != n {
		return nil, fmt.Errorf("train: %d inputs but %d labels", n, labels.Shape().Dimensions[0])
	}
	if batchSize <= 0 || batchSize > n {
		return nil, fmt.Errorf("train: batch size %d must be in [1, %d examples]", batchSize, n)
	}
	gather, err := graph.NewExec(backend, func(indices, x, y *graph.Node) (*graph.Node, *graph.Node) {
		return graph.Gather(x, indices), graph.Gather(y, indices)
	})
	if err != nil {
		return nil, fmt.Errorf("train: batching: %w", err)
	}
	d := &epochData{
		inputs: inputs, labels: labels, gather: gather,
		numExamples: n, batchSize: batchSize, stepsPerEpoch: n / batchSize, seed: seed,
	}
	d.seek(0, 0)
	return d, nil
}

// seek positions the data at a step of an epoch.
func (d *epochData) seek(epoch, step int) {
	d.epoch, d.step = epoch, step
	rng := rand.New(rand.NewPCG(d.seed, uint64(epoch)))
	d.order = rng.Perm(d.numExamples)
}

// Name implements the GoMLX train.Dataset.
func (d *epochData) Name() string { return "train" }

// Reset implements the GoMLX train.Dataset; the data never ends, so there is nothing to do.
func (d *epochData) Reset() {}

// Yield implements the GoMLX train.Dataset: the next batch, moving to the next epoch's order
// after the last full batch.
func (d *epochData) Yield() (spec any, inputs, labels []*tensors.Tensor, err error) {
	if d.step >= d.stepsPerEpoch {
		d.seek(d.epoch+1, 0)
	}
	picked := d.order[d.step*d.batchSize : (d.step+1)*d.batchSize]
	d.step++
	indices := make([]int32, len(picked))
	for i, p := range picked {
		indices[i] = int32(p)
	}
	idx := tensors.FromFlatDataAndDimensions(indices, len(indices), 1)
	defer idx.MustFinalizeAll()
	out, err := d.gather.Exec(idx, d.inputs, d.labels)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("train: gathering batch: %w", err)
	}
	return nil, out[:1], out[1:], nil
}

// finalize frees the batching graph (the data tensors belong to the caller).
func (d *epochData) finalize() {
	d.gather.Finalize()
}

// evalBatches iterates over a dataset in fixed order, in batches of batchSize (the last one
// possibly smaller), calling fn with each batch's input and label tensors.
func evalBatches(ds *datasets.InMemoryDataset, batchSize int,
	fn func(inputs, labels *tensors.Tensor) error) error {
	it := ds.Copy().BatchSize(batchSize, false)
	for {
		_, in, lab, err := it.Yield()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("train: reading evaluation data: %w", err)
		}
		if len(in) != 1 || len(lab) > 1 {
			return fmt.Errorf("train: evaluation dataset yields %d inputs and %d labels, "+
				"want 1 input and at most 1 label", len(in), len(lab))
		}
		labels := in[0]
		if len(lab) == 1 {
			labels = lab[0]
		}
		err = fn(in[0], labels)
		in[0].MustFinalizeAll()
		if len(lab) == 1 {
			lab[0].MustFinalizeAll()
		}
		if err != nil {
			return err
		}
	}
}
