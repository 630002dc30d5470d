// Package transform holds the image transforms of the experiments, in pure Go
// on flat slices laid out row-major with channels last (N, H, W, C): scaling to
// [0, 1], Gaussian noise for the denoiser, downscaling by area averaging for
// super-resolution, horizontal flips, and fixed, seeded splits.
//
// Everything here is deterministic: the same input and seed give the same
// output on every machine.
package transform

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Shape is the shape of a batch of images: N images of H rows, W columns and C
// channels.
type Shape struct{ N, H, W, C int }

// Size returns the number of values in a batch of this shape.
func (s Shape) Size() int { return s.N * s.H * s.W * s.C }

// String writes the shape as NxHxWxC.
func (s Shape) String() string { return fmt.Sprintf("%dx%dx%dx%d", s.N, s.H, s.W, s.C) }

func (s Shape) check(n int) error {
	if s.N < 0 || s.H <= 0 || s.W <= 0 || s.C <= 0 {
		return fmt.Errorf("transform: bad shape %s", s)
	}
	if s.Size() != n {
		return fmt.Errorf("transform: shape %s needs %d values, got %d", s, s.Size(), n)
	}
	return nil
}

// ToUnit scales 8-bit pixels to float32 in [0, 1] (divides by 255).
func ToUnit(p []uint8) []float32 {
	out := make([]float32, len(p))
	for i, v := range p {
		out[i] = float32(v) / 255
	}
	return out
}

// ToUnit16 scales 16-bit pixels to float32 in [0, 1] (divides by 65535).
func ToUnit16(p []uint16) []float32 {
	out := make([]float32, len(p))
	for i, v := range p {
		out[i] = float32(v) / 65535
	}
	return out
}

// FromUnit turns values in [0, 1] back into 8-bit pixels, rounding and clipping
// values outside the range.
func FromUnit(x []float32) []uint8 {
	out := make([]uint8, len(x))
	for i, v := range x {
		out[i] = uint8(math.Round(float64(clip01(v)) * 255))
	}
	return out
}

func clip01(v float32) float32 {
	switch {
	case v < 0 || v != v:
		return 0
	case v > 1:
		return 1
	}
	return v
}

// DefaultNoiseSigma is the standard deviation of the denoiser's Gaussian noise
// on pixels scaled to [0, 1]: 0.5, i.e. half the pixel range, heavy enough that
// digits are hard to read by eye.
const DefaultNoiseSigma = 0.5

// DefaultNoiseSeed is the seed the experiments draw their noise with.
const DefaultNoiseSeed = 1

// AddNoise returns a copy of x, values in [0, 1], with Gaussian noise of
// standard deviation sigma added and the result clipped to [0, 1]. The noise
// is drawn once from a generator seeded with seed, so the same call always
// gives the same noisy images: make the noisy set once, not per epoch.
func AddNoise(x []float32, sigma float64, seed uint64) []float32 {
	rng := rand.New(rand.NewPCG(seed, 0x6e6f697365))
	out := make([]float32, len(x))
	for i, v := range x {
		out[i] = clip01(v + float32(rng.NormFloat64()*sigma))
	}
	return out
}

// Downscale shrinks every image of x by factor in both directions, each output
// pixel the mean of a factor x factor block of input pixels, per channel. H and
// W must be multiples of factor. It returns the new values and shape.
func Downscale(x []float32, s Shape, factor int) ([]float32, Shape, error) {
	if err := s.check(len(x)); err != nil {
		return nil, Shape{}, err
	}
	if factor < 1 || s.H%factor != 0 || s.W%factor != 0 {
		return nil, Shape{}, fmt.Errorf("transform: cannot downscale %dx%d images by %d",
			s.H, s.W, factor)
	}
	o := Shape{N: s.N, H: s.H / factor, W: s.W / factor, C: s.C}
	out := make([]float32, o.Size())
	inv := 1 / float32(factor*factor)
	rowLen := s.W * s.C
	for n := range s.N {
		src := x[n*s.H*rowLen : (n+1)*s.H*rowLen]
		dst := out[n*o.H*o.W*o.C : (n+1)*o.H*o.W*o.C]
		for y := range s.H {
			row := src[y*rowLen : (y+1)*rowLen]
			orow := dst[(y/factor)*o.W*o.C : (y/factor+1)*o.W*o.C]
			for xx := range s.W {
				base := (xx / factor) * o.C
				for c := range s.C {
					orow[base+c] += row[xx*s.C+c]
				}
			}
		}
		for i := range dst {
			dst[i] *= inv
		}
	}
	return out, o, nil
}

// Downscale2 halves the size of every image by area averaging.
func Downscale2(x []float32, s Shape) ([]float32, Shape, error) { return Downscale(x, s, 2) }

// Downscale8 shrinks every image by 8 by area averaging.
func Downscale8(x []float32, s Shape) ([]float32, Shape, error) { return Downscale(x, s, 8) }

// UpscaleNearest enlarges every image by factor by repeating each pixel in a
// factor x factor block, the plain baseline a super-resolution model must beat.
func UpscaleNearest(x []float32, s Shape, factor int) ([]float32, Shape, error) {
	if err := s.check(len(x)); err != nil {
		return nil, Shape{}, err
	}
	if factor < 1 {
		return nil, Shape{}, fmt.Errorf("transform: cannot upscale by %d", factor)
	}
	o := Shape{N: s.N, H: s.H * factor, W: s.W * factor, C: s.C}
	out := make([]float32, o.Size())
	i := 0
	for n := range s.N {
		for y := range o.H {
			row := x[((n*s.H)+y/factor)*s.W*s.C:]
			for xx := range o.W {
				copy(out[i:i+s.C], row[(xx/factor)*s.C:(xx/factor+1)*s.C])
				i += s.C
			}
		}
	}
	return out, o, nil
}

// FlipH returns a copy of x with every image mirrored left to right. It works
// on images, disparity maps and label maps alike.
func FlipH[T any](x []T, s Shape) ([]T, error) {
	if err := s.check(len(x)); err != nil {
		return nil, err
	}
	out := make([]T, len(x))
	rowLen := s.W * s.C
	for r := 0; r < s.N*s.H; r++ {
		src := x[r*rowLen : (r+1)*rowLen]
		dst := out[r*rowLen : (r+1)*rowLen]
		for xx := range s.W {
			copy(dst[(s.W-1-xx)*s.C:(s.W-xx)*s.C], src[xx*s.C:(xx+1)*s.C])
		}
	}
	return out, nil
}

// Permutation returns the numbers 0 to n-1 in an order fixed by seed.
func Permutation(n int, seed uint64) []int {
	return rand.New(rand.NewPCG(seed, 0x73706c6974)).Perm(n)
}

// SplitIndices splits the indices 0 to n-1, shuffled by seed, into a first
// part of size first and a second part with the rest, each sorted ascending.
// The same arguments always give the same parts.
func SplitIndices(n, first int, seed uint64) (a, b []int, err error) {
	if first < 0 || first > n {
		return nil, nil, fmt.Errorf("transform: cannot take %d of %d items", first, n)
	}
	p := Permutation(n, seed)
	inA := make([]bool, n)
	for _, i := range p[:first] {
		inA[i] = true
	}
	a = make([]int, 0, first)
	b = make([]int, 0, n-first)
	for i, in := range inA {
		if in {
			a = append(a, i)
		} else {
			b = append(b, i)
		}
	}
	return a, b, nil
}

// Gather returns the images at the given indices of x, in that order.
func Gather[T any](x []T, s Shape, indices []int) ([]T, Shape, error) {
	if err := s.check(len(x)); err != nil {
		return nil, Shape{}, err
	}
	size := s.H * s.W * s.C
	out := make([]T, 0, len(indices)*size)
	for _, i := range indices {
		if i < 0 || i >= s.N {
			return nil, Shape{}, fmt.Errorf("transform: index %d out of range [0, %d)", i, s.N)
		}
		out = append(out, x[i*size:(i+1)*size]...)
	}
	return out, Shape{N: len(indices), H: s.H, W: s.W, C: s.C}, nil
}
