package transform

import (
	"math"
	"slices"
	"testing"
)

func TestDownscaleAveragesBlocks(t *testing.T) {
	// One 4x4 image with two channels: channel 0 counts up, channel 1 is 1.
	s := Shape{N: 1, H: 4, W: 4, C: 2}
	x := make([]float32, s.Size())
	for i := range 16 {
		x[2*i] = float32(i)
		x[2*i+1] = 1
	}
	got, o, err := Downscale2(x, s)
	if err != nil {
		t.Fatal(err)
	}
	want := []float32{2.5, 1, 4.5, 1, 10.5, 1, 12.5, 1}
	if o != (Shape{1, 2, 2, 2}) || !slices.Equal(got, want) {
		t.Fatalf("got %v %v, want %v", o, got, want)
	}
	if _, _, err := Downscale(x, Shape{N: 1, H: 4, W: 4, C: 2}, 3); err == nil {
		t.Error("4x4 downscaled by 3")
	}
	if _, _, err := Downscale(x[:5], s, 2); err == nil {
		t.Error("wrong length accepted")
	}
}

func TestDownscale8ThenUpscaleKeepsFlatImages(t *testing.T) {
	s := Shape{N: 2, H: 16, W: 24, C: 3}
	x := make([]float32, s.Size())
	for i := range x {
		x[i] = float32(i/(s.Size()/2)) * 0.5
	}
	small, o, err := Downscale8(x, s)
	if err != nil || o != (Shape{2, 2, 3, 3}) {
		t.Fatalf("shape %v, %v", o, err)
	}
	big, ob, err := UpscaleNearest(small, o, 8)
	if err != nil || ob != s || !slices.Equal(big, x) {
		t.Fatalf("round trip changed a flat image: %v", err)
	}
}

func TestAddNoiseIsSeededAndClipped(t *testing.T) {
	x := make([]float32, 10000)
	for i := range x {
		x[i] = 0.5
	}
	a := AddNoise(x, DefaultNoiseSigma, 3)
	b := AddNoise(x, DefaultNoiseSigma, 3)
	c := AddNoise(x, DefaultNoiseSigma, 4)
	if !slices.Equal(a, b) || slices.Equal(a, c) {
		t.Fatal("noise does not follow the seed")
	}
	var sum, sq float64
	for _, v := range a {
		if v < 0 || v > 1 {
			t.Fatalf("value %v outside [0, 1]", v)
		}
		sum += float64(v)
		sq += float64(v-0.5) * float64(v-0.5)
	}
	mean, sd := sum/float64(len(a)), math.Sqrt(sq/float64(len(a)))
	// Clipping at 0 and 1 (one sigma away) keeps the mean and shrinks the spread.
	if math.Abs(mean-0.5) > 0.02 || sd < 0.3 || sd > 0.45 {
		t.Fatalf("mean %.3f, spread %.3f", mean, sd)
	}
	if x[0] != 0.5 {
		t.Fatal("input changed")
	}
}

func TestFlipHMirrorsEachRowAndKeepsChannels(t *testing.T) {
	s := Shape{N: 1, H: 2, W: 3, C: 2}
	x := []uint8{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}
	got, err := FlipH(x, s)
	if err != nil {
		t.Fatal(err)
	}
	want := []uint8{5, 6, 3, 4, 1, 2, 11, 12, 9, 10, 7, 8}
	if !slices.Equal(got, want) {
		t.Fatalf("got %v", got)
	}
	back, _ := FlipH(got, s)
	if !slices.Equal(back, x) {
		t.Fatal("flipping twice does not give the input back")
	}
}

func TestSplitIndicesIsFixedAndDisjoint(t *testing.T) {
	a, b, err := SplitIndices(100, 30, 9)
	if err != nil {
		t.Fatal(err)
	}
	a2, _, _ := SplitIndices(100, 30, 9)
	if !slices.Equal(a, a2) || len(a) != 30 || len(b) != 70 {
		t.Fatalf("split %d/%d not repeatable", len(a), len(b))
	}
	all := slices.Concat(a, b)
	slices.Sort(all)
	for i, v := range all {
		if v != i {
			t.Fatalf("parts overlap or miss %d", i)
		}
	}
	if _, _, err := SplitIndices(10, 11, 1); err == nil {
		t.Error("split of more than n accepted")
	}
}

func TestScalingRoundTrips(t *testing.T) {
	p := []uint8{0, 1, 128, 255}
	if got := FromUnit(ToUnit(p)); !slices.Equal(got, p) {
		t.Fatalf("round trip gave %v", got)
	}
	if got := FromUnit([]float32{-1, 2, float32(math.NaN())}); !slices.Equal(got, []uint8{0, 255, 0}) {
		t.Fatalf("clipping gave %v", got)
	}
	if got := ToUnit16([]uint16{65535, 0}); got[0] != 1 || got[1] != 0 {
		t.Fatalf("16-bit scaling gave %v", got)
	}
	g, o, err := Gather([]int{1, 2, 3, 4, 5, 6}, Shape{3, 1, 2, 1}, []int{2, 0})
	if err != nil || o.N != 2 || !slices.Equal(g, []int{5, 6, 1, 2}) {
		t.Fatalf("gather gave %v %v %v", g, o, err)
	}
}

func BenchmarkDownscale2MNIST(b *testing.B) {
	s := Shape{N: 1000, H: 28, W: 28, C: 1}
	x := make([]float32, s.Size())
	b.SetBytes(int64(4 * len(x)))
	for b.Loop() {
		_, _, _ = Downscale2(x, s)
	}
}

func BenchmarkAddNoiseMNIST(b *testing.B) {
	x := make([]float32, 1000*784)
	b.SetBytes(int64(4 * len(x)))
	for b.Loop() {
		_ = AddNoise(x, DefaultNoiseSigma, 1)
	}
}
