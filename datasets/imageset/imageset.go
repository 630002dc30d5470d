// Package imageset holds a labelled set of same-sized images in memory, the
// common result of the MNIST, Fashion-MNIST and CIFAR loaders, and turns it into
// GoMLX tensors and datasets for batching and shuffling.
//
// Pixels are kept as bytes, row-major with channels last (N, H, W, C), the
// layout GoMLX convolutions expect; Float32 and ImagesTensor scale them to [0, 1].
package imageset

import (
	"fmt"

	"github.com/dlexp/dlexp/datasets/transform"
	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/datasets"
)

// Set is a labelled set of N images of H x W pixels with C channels each.
type Set struct {
	// Name says which data this is, such as "mnist/train".
	Name string
	// Source says where the data was read from, for logs and notebooks.
	Source string

	// Shape: N images of H rows, W columns and C channels.
	N, H, W, C int
	// Pixels holds N*H*W*C bytes, row-major, channels last.
	Pixels []uint8

	// Labels holds one class label per image, each below NumClasses;
	// ClassNames, when set, names the classes.
	Labels     []uint8
	NumClasses int
	ClassNames []string

	// CoarseLabels, when set, holds a second, coarser label per image, each
	// below NumCoarse, named by CoarseNames (CIFAR-100 superclasses).
	CoarseLabels []uint8
	NumCoarse    int
	CoarseNames  []string
}

// ImageSize returns the number of bytes of one image, H*W*C.
func (s *Set) ImageSize() int { return s.H * s.W * s.C }

// Image returns the bytes of image i, sharing memory with s.Pixels.
func (s *Set) Image(i int) []uint8 {
	n := s.ImageSize()
	return s.Pixels[i*n : (i+1)*n : (i+1)*n]
}

// Validate checks that the sizes agree and every label is in range.
func (s *Set) Validate() error {
	if s.N < 0 || s.H <= 0 || s.W <= 0 || s.C <= 0 {
		return fmt.Errorf("imageset: %s: bad shape %dx%dx%dx%d", s.Name, s.N, s.H, s.W, s.C)
	}
	if len(s.Pixels) != s.N*s.ImageSize() {
		return fmt.Errorf("imageset: %s: %d pixel bytes for %d images of %dx%dx%d",
			s.Name, len(s.Pixels), s.N, s.H, s.W, s.C)
	}
	if err := checkLabels(s.Name, "label", s.Labels, s.N, s.NumClasses, s.ClassNames); err != nil {
		return err
	}
	if s.CoarseLabels != nil {
		return checkLabels(s.Name, "coarse label", s.CoarseLabels, s.N, s.NumCoarse, s.CoarseNames)
	}
	return nil
}

func checkLabels(name, what string, labels []uint8, n, classes int, names []string) error {
	if len(labels) != n {
		return fmt.Errorf("imageset: %s: %d %ss for %d images", name, len(labels), what, n)
	}
	if classes <= 0 || classes > 256 {
		return fmt.Errorf("imageset: %s: %d classes", name, classes)
	}
	if names != nil && len(names) != classes {
		return fmt.Errorf("imageset: %s: %d class names for %d classes", name, len(names), classes)
	}
	for i, l := range labels {
		if int(l) >= classes {
			return fmt.Errorf("imageset: %s: %s %d of image %d is not below %d",
				name, what, l, i, classes)
		}
	}
	return nil
}

// Float32 returns all pixels divided by 255, in [0, 1], in the layout of Pixels.
func (s *Set) Float32() []float32 {
	out := make([]float32, len(s.Pixels))
	for i, p := range s.Pixels {
		out[i] = float32(p) / 255
	}
	return out
}

// LabelsInt32 returns the labels as int32.
func (s *Set) LabelsInt32() []int32 {
	out := make([]int32, len(s.Labels))
	for i, l := range s.Labels {
		out[i] = int32(l)
	}
	return out
}

// Subset returns a new Set with the images at the given indices, in that
// order; pixels and labels are copied.
func (s *Set) Subset(name string, indices []int) (*Set, error) {
	out := *s
	out.Name = name
	out.N = len(indices)
	n := s.ImageSize()
	out.Pixels = make([]uint8, 0, len(indices)*n)
	out.Labels = make([]uint8, 0, len(indices))
	if s.CoarseLabels != nil {
		out.CoarseLabels = make([]uint8, 0, len(indices))
	}
	for _, i := range indices {
		if i < 0 || i >= s.N {
			return nil, fmt.Errorf("imageset: %s: index %d out of range [0, %d)", s.Name, i, s.N)
		}
		out.Pixels = append(out.Pixels, s.Image(i)...)
		out.Labels = append(out.Labels, s.Labels[i])
		if s.CoarseLabels != nil {
			out.CoarseLabels = append(out.CoarseLabels, s.CoarseLabels[i])
		}
	}
	return &out, nil
}

// Take returns the first n images of s (all of them when n <= 0 or n >= N), sharing
// memory with s.
func (s *Set) Take(n int) *Set {
	if n <= 0 || n >= s.N {
		return s
	}
	out := *s
	out.N = n
	out.Pixels = s.Pixels[:n*s.ImageSize()]
	out.Labels = s.Labels[:n]
	if s.CoarseLabels != nil {
		out.CoarseLabels = s.CoarseLabels[:n]
	}
	return &out
}

// Split cuts s into two Sets after a fixed shuffle drawn from seed (see
// transform.Permutation): the first holds n images, the second the rest. The
// same seed always gives the same split.
func (s *Set) Split(seed uint64, n int) (*Set, *Set, error) {
	if n < 0 || n > s.N {
		return nil, nil, fmt.Errorf("imageset: %s: cannot take %d of %d images", s.Name, n, s.N)
	}
	perm := transform.Permutation(s.N, seed)
	a, err := s.Subset(s.Name+"/a", perm[:n])
	if err != nil {
		return nil, nil, err
	}
	b, err := s.Subset(s.Name+"/b", perm[n:])
	if err != nil {
		return nil, nil, err
	}
	return a, b, nil
}

// ImagesTensor returns the images as a float32 tensor shaped [N, H, W, C] with
// values in [0, 1].
func (s *Set) ImagesTensor() *tensors.Tensor {
	return tensors.FromFlatDataAndDimensions(s.Float32(), s.N, s.H, s.W, s.C)
}

// LabelsTensor returns the labels as an int32 tensor shaped [N, 1], the form
// GoMLX's sparse categorical losses take.
func (s *Set) LabelsTensor() *tensors.Tensor {
	return tensors.FromFlatDataAndDimensions(s.LabelsInt32(), s.N, 1)
}

// Dataset returns a GoMLX in-memory dataset yielding the images (float32
// [batch, H, W, C] in [0, 1]) as input and the labels (int32 [batch, 1]) as
// label. Set its batch size, shuffling and looping with the dataset's own
// methods (BatchSize, Shuffle, Infinite).
func (s *Set) Dataset(backend backends.Backend) (*datasets.InMemoryDataset, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return InMemory(backend, s.Name,
		[]*tensors.Tensor{s.ImagesTensor()}, []*tensors.Tensor{s.LabelsTensor()})
}

// InMemory returns a GoMLX in-memory dataset over the given input and label
// tensors, whose first axis is the example axis and the same for all (for
// example noisy images as input and clean ones as label). It turns GoMLX's
// panics into errors.
func InMemory(backend backends.Backend, name string, inputs, labels []*tensors.Tensor) (
	ds *datasets.InMemoryDataset, err error) {
	if backend == nil {
		return nil, fmt.Errorf("imageset: %s: no backend", name)
	}
	if len(name) < 3 {
		name += "___"[len(name):]
	}
	defer func() {
		if r := recover(); r != nil {
			ds, err = nil, fmt.Errorf("imageset: %s: building the dataset: %v", name, r)
		}
	}()
	in := make([]any, len(inputs))
	for i, t := range inputs {
		in[i] = t
	}
	lb := make([]any, len(labels))
	for i, t := range labels {
		lb[i] = t
	}
	ds, err = datasets.InMemoryFromData(backend, name, in, lb)
	if err != nil {
		return nil, fmt.Errorf("imageset: %s: %w", name, err)
	}
	return ds, nil
}
