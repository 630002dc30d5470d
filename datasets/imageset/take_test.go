package imageset

import "testing"

func TestTakeKeepsTheFirstImagesAndSharesMemory(t *testing.T) {
	s := &Set{Name: "tiny", N: 3, H: 1, W: 2, C: 1, NumClasses: 3,
		Pixels: []uint8{1, 2, 3, 4, 5, 6}, Labels: []uint8{0, 1, 2},
		CoarseLabels: []uint8{0, 0, 1}, NumCoarse: 2}
	got := s.Take(2)
	if got.N != 2 || len(got.Pixels) != 4 || len(got.Labels) != 2 || len(got.CoarseLabels) != 2 {
		t.Fatalf("Take(2): N=%d pixels=%d labels=%d coarse=%d", got.N, len(got.Pixels),
			len(got.Labels), len(got.CoarseLabels))
	}
	if err := got.Validate(); err != nil {
		t.Fatal(err)
	}
	if &got.Pixels[0] != &s.Pixels[0] {
		t.Error("Take copied the pixels, want shared memory")
	}
	for _, n := range []int{0, -1, 3, 9} {
		if s.Take(n) != s {
			t.Errorf("Take(%d) is not the whole set", n)
		}
	}
}
