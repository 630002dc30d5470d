package sides

import (
	"reflect"
	"testing"

	_ "github.com/dlexp/dlexp/mlx/cpubackend"
	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/graph"
)

func TestPadToMultipleAddsZerosBelowAndRight(t *testing.T) {
	b, err := backends.NewWithConfig("cpu")
	if err != nil {
		t.Fatalf("cpu backend: %v", err)
	}
	defer b.Finalize()
	in := [][][][]float32{{{{1}, {2}, {3}}}} // [1, 1, 3, 1]
	out, err := graph.ExecOnce(b, func(x *graph.Node) *graph.Node {
		return PadToMultiple(x, 2)
	}, in)
	if err != nil {
		t.Fatal(err)
	}
	want := [][][][]float32{{{{1}, {2}, {3}, {0}}, {{0}, {0}, {0}, {0}}}}
	if got := out.Value(); !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestPadToMultipleLeavesFittingSidesAlone(t *testing.T) {
	b, err := backends.NewWithConfig("cpu")
	if err != nil {
		t.Fatalf("cpu backend: %v", err)
	}
	defer b.Finalize()
	in := [][][][]float32{{{{1}, {2}}, {{3}, {4}}}} // [1, 2, 2, 1]
	out, err := graph.ExecOnce(b, func(x *graph.Node) *graph.Node {
		return PadToMultiple(x, 2)
	}, in)
	if err != nil {
		t.Fatal(err)
	}
	if got := out.Value(); !reflect.DeepEqual(got, in) {
		t.Errorf("got %v, want %v", got, in)
	}
}
