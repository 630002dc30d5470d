// Package catalog loads the image-classification datasets of the experiments by name, so
// that a notebook can choose one with a single knob: "mnist", "fashion-mnist", "cifar10"
// and "cifar100".
package catalog

import (
	"fmt"
	"slices"
	"strings"

	"github.com/dlexp/dlexp/datasets/cifar"
	"github.com/dlexp/dlexp/datasets/fashionmnist"
	"github.com/dlexp/dlexp/datasets/imageset"
	"github.com/dlexp/dlexp/datasets/mnist"
)

// Names lists the datasets Load knows, in the order notebooks present them.
var Names = []string{"mnist", "fashion-mnist", "cifar10", "cifar100"}

// Split names a published part of a dataset: "train" or "test".
type Split string

// The two splits every dataset of the catalog has.
const (
	Train Split = "train"
	Test  Split = "test"
)

// Load returns the split of the named dataset, fetching it into the data cache when needed.
func Load(name string, split Split) (*imageset.Set, error) {
	if split != Train && split != Test {
		return nil, fmt.Errorf("catalog: unknown split %q (want %q or %q)", split, Train, Test)
	}
	var (
		set *imageset.Set
		err error
	)
	switch Normalize(name) {
	case "mnist":
		set, err = mnist.Load(mnist.Split(split))
	case "fashion-mnist":
		set, err = fashionmnist.Load(fashionmnist.Split(split))
	case "cifar10":
		set, err = cifar.Load10(cifar.Split(split))
	case "cifar100":
		set, err = cifar.Load100(cifar.Split(split))
	default:
		return nil, fmt.Errorf("catalog: unknown dataset %q (known: %s)",
			name, strings.Join(Names, ", "))
	}
	if err != nil {
		return nil, fmt.Errorf("catalog: %s %s: %w", Normalize(name), split, err)
	}
	return set, nil
}

// Normalize maps the spellings people use ("MNIST", "fashion_mnist", "CIFAR-10") to the
// names of Names; an unknown name comes back lower-cased.
func Normalize(name string) string {
	n := strings.ToLower(strings.TrimSpace(name))
	n = strings.NewReplacer("_", "-", " ", "-").Replace(n)
	switch n {
	case "fashionmnist", "fmnist":
		return "fashion-mnist"
	case "cifar-10":
		return "cifar10"
	case "cifar-100":
		return "cifar100"
	}
	return n
}

// Known reports whether name (in any spelling Normalize accepts) is in the catalog.
func Known(name string) bool {
	return slices.Contains(Names, Normalize(name))
}
