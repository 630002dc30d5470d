package imageset

import (
	"io"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/backends/simplego"
)

func tiny() *Set {
	s := &Set{Name: "tiny", N: 4, H: 2, W: 3, C: 1, NumClasses: 3,
		Labels: []uint8{0, 1, 2, 1}, Pixels: make([]uint8, 24)}
	for i := range s.Pixels {
		s.Pixels[i] = uint8(i * 10)
	}
	return s
}

func TestValidateFindsDisagreements(t *testing.T) {
	if err := tiny().Validate(); err != nil {
		t.Fatal(err)
	}
	s := tiny()
	s.Labels[3] = 3
	if err := s.Validate(); err == nil || !strings.Contains(err.Error(), "label 3 of image 3") {
		t.Errorf("label out of range: %v", err)
	}
	s = tiny()
	s.Pixels = s.Pixels[:23]
	if err := s.Validate(); err == nil {
		t.Error("short pixels accepted")
	}
	s = tiny()
	s.ClassNames = []string{"a"}
	if err := s.Validate(); err == nil {
		t.Error("wrong number of class names accepted")
	}
}

func TestSplitIsFixedBySeedAndCoversAll(t *testing.T) {
	s := tiny()
	a1, b1, err := s.Split(7, 3)
	if err != nil {
		t.Fatal(err)
	}
	a2, _, _ := s.Split(7, 3)
	if string(a1.Pixels) != string(a2.Pixels) {
		t.Error("same seed, different split")
	}
	if a1.N != 3 || b1.N != 1 || len(b1.Pixels) != 6 {
		t.Fatalf("split sizes %d and %d", a1.N, b1.N)
	}
	seen := map[uint8]bool{}
	for _, set := range []*Set{a1, b1} {
		for i := range set.N {
			seen[set.Image(i)[0]] = true
		}
	}
	if len(seen) != 4 {
		t.Fatalf("split lost images: %v", seen)
	}
	if _, _, err := s.Split(1, 5); err == nil {
		t.Error("split of more than N accepted")
	}
}

func TestDatasetYieldsBatchesOfScaledImages(t *testing.T) {
	backend, err := simplego.New("")
	if err != nil {
		t.Fatal(err)
	}
	defer backend.Finalize()
	ds, err := tiny().Dataset(backend)
	if err != nil {
		t.Fatal(err)
	}
	ds.BatchSize(2, true)
	_, inputs, labels, err := ds.Yield()
	if err != nil {
		t.Fatal(err)
	}
	dims := inputs[0].Shape().Dimensions
	if len(dims) != 4 || dims[0] != 2 || dims[1] != 2 || dims[2] != 3 || dims[3] != 1 {
		t.Fatalf("input dims %v", dims)
	}
	px := inputs[0].Value().([][][][]float32)
	if px[1][0][0][0] != 60.0/255 {
		t.Fatalf("second image first pixel %v", px[1][0][0][0])
	}
	if l := labels[0].Value().([][]int32); l[1][0] != 1 {
		t.Fatalf("labels %v", l)
	}
	_, _, _, _ = ds.Yield()
	if _, _, _, err := ds.Yield(); err != io.EOF {
		t.Fatalf("third batch of a 4-image set: %v", err)
	}
}
