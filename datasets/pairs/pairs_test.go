package pairs

import (
	"testing"

	"github.com/dlexp/dlexp/datasets/imageset"
)

func tinySet(n, h, w, c int) *imageset.Set {
	s := &imageset.Set{Name: "tiny", N: n, H: h, W: w, C: c, NumClasses: 2}
	s.Pixels = make([]uint8, n*h*w*c)
	for i := range s.Pixels {
		s.Pixels[i] = uint8(i * 7)
	}
	s.Labels = make([]uint8, n)
	return s
}

func TestIdentityPairsShareInputAndTarget(t *testing.T) {
	p, err := Make(Identity, tinySet(3, 4, 4, 1), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if p.N() != 3 || p.InShape != p.OutShape {
		t.Fatalf("shapes %v -> %v, want equal with N=3", p.InShape, p.OutShape)
	}
	for i := range p.Inputs {
		if p.Inputs[i] != p.Targets[i] {
			t.Fatalf("pixel %d: input %g != target %g", i, p.Inputs[i], p.Targets[i])
		}
	}
}

func TestDenoiseNoiseIsFixedBySeedAndClipped(t *testing.T) {
	set := tinySet(2, 4, 4, 1)
	a, err := Make(Denoise, set, Options{Sigma: 0.5, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Make(Denoise, set, Options{Sigma: 0.5, Seed: 3})
	changed := 0
	for i, v := range a.Inputs {
		if v != b.Inputs[i] {
			t.Fatalf("same seed gave different noise at %d", i)
		}
		if v < 0 || v > 1 {
			t.Fatalf("noisy pixel %d = %g outside [0, 1]", i, v)
		}
		if v != a.Targets[i] {
			changed++
		}
	}
	if changed < len(a.Inputs)/2 {
		t.Errorf("only %d of %d pixels got noise", changed, len(a.Inputs))
	}
	if _, err := Make(Denoise, set, Options{Sigma: -1}); err == nil {
		t.Error("negative sigma: got no error")
	}
}

func TestSuperResolutionHalvesTheInput(t *testing.T) {
	p, err := Make(SuperResolution, tinySet(2, 4, 6, 3), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if p.InShape.H != 2 || p.InShape.W != 3 || p.OutShape.H != 4 || p.OutShape.W != 6 {
		t.Fatalf("shapes %v -> %v, want 2x3 -> 4x6", p.InShape, p.OutShape)
	}
	if _, err := Make(SuperResolution, tinySet(1, 3, 3, 1), Options{}); err == nil {
		t.Error("odd sides: got no error")
	}
}

func TestTakeAndTensors(t *testing.T) {
	p, _ := Make(Identity, tinySet(5, 2, 2, 1), Options{})
	q := p.Take(2)
	if q.N() != 2 || len(q.Inputs) != 8 || p.N() != 5 {
		t.Fatalf("Take(2): N=%d len=%d, original N=%d", q.N(), len(q.Inputs), p.N())
	}
	if dims := p.InputsTensor(3).Shape().Dimensions; len(dims) != 4 || dims[0] != 3 {
		t.Errorf("InputsTensor(3) dims %v", dims)
	}
	if _, err := Make("blur", tinySet(1, 2, 2, 1), Options{}); err == nil {
		t.Error("unknown task: got no error")
	}
	if _, err := Make(Identity, &imageset.Set{}, Options{}); err == nil {
		t.Error("empty set: got no error")
	}
}
