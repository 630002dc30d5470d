package cpubackend

import (
	"testing"

	"github.com/gomlx/gomlx/backends"
	. "github.com/gomlx/gomlx/pkg/core/graph"
)

// padReference pads a like backends.Pad: interior first, then edges (negative ones trim).
func padReference(a *array, fill float64, config []backends.PadAxis) *array {
	dims := append([]int(nil), a.dims...)
	for axis, pc := range config {
		if dims[axis] > 0 {
			dims[axis] = dims[axis] + (dims[axis]-1)*pc.Interior
		}
		dims[axis] += pc.Start + pc.End
	}
	out := newArray(dims...)
	for i := range out.data {
		out.data[i] = fill
	}
	forEach(a.dims, func(idx []int) {
		to := make([]int, len(idx))
		for axis, i := range idx {
			to[axis] = i
			if axis < len(config) {
				to[axis] = config[axis].Start + i*(config[axis].Interior+1)
			}
			if to[axis] < 0 || to[axis] >= dims[axis] {
				return
			}
		}
		out.data[out.index(to)] = a.data[a.index(idx)]
	})
	return out
}

func TestPadMatchesReference(t *testing.T) {
	x := randomArray(1, 3, 4, 5)
	cases := []struct {
		name   string
		config []backends.PadAxis
	}{
		{"edges", []backends.PadAxis{{Start: 1, End: 2}, {}, {Start: 0, End: 3}}},
		{"interior", []backends.PadAxis{{Interior: 1}, {Interior: 2}}},
		{"negative edges", []backends.PadAxis{{Start: -1, End: 0}, {Start: 2, End: -2}}},
		{"all at once", []backends.PadAxis{{}, {Start: -1, End: 2, Interior: 1},
			{Start: 2, End: -3, Interior: 2}}},
		{"none", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := run(t, cpuBackend(), func(x *Node) *Node {
				return Pad(x, Const(x.Graph(), 0.5), tc.config...)
			}, x.tensor64())[0]
			assertClose(t, "Pad", got, padReference(x, 0.5, tc.config), 0)
		})
	}
}
