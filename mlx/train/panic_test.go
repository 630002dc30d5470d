package train

import (
	"strings"
	"testing"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/gomlx/gomlx/pkg/ml/datasets"
)

func TestModelThatDoesNotFitItsDataIsAnErrorNotAPanic(t *testing.T) {
	b, err := backends.NewWithConfig("cpu")
	if err != nil {
		t.Fatal(err)
	}
	inputs := make([][]float32, 8)
	labels := make([][]float32, 8)
	for i := range inputs {
		inputs[i] = []float32{float32(i), 1, 2}
		labels[i] = []float32{float32(i), 1, 2, 3}
	}
	ds, err := datasets.InMemoryFromData(b, "mismatch", []any{inputs}, []any{labels})
	if err != nil {
		t.Fatal(err)
	}
	identity := func(ctx *context.Context, x *graph.Node) *graph.Node {
		return graph.Identity(x) // 3 values against labels of 4: MSE cannot compare them
	}
	_, err = New(b, context.New(), identity).Data(ds, nil).BatchSize(4).Run()
	if err == nil {
		t.Fatal("got no error for predictions that do not match the labels' shape")
	}
	t.Logf("error: %v", err)
	if !strings.Contains(err.Error(), "train:") {
		t.Errorf("error %q does not say it comes from train", err)
	}
}
