package catalog

import (
	"strings"
	"testing"
)

func TestNormalizeAcceptsCommonSpellings(t *testing.T) {
	cases := map[string]string{
		"MNIST": "mnist", "Fashion_MNIST": "fashion-mnist", "fmnist": "fashion-mnist",
		"CIFAR-10": "cifar10", "cifar-100": "cifar100", " cifar10 ": "cifar10",
	}
	for in, want := range cases {
		if got := Normalize(in); got != want {
			t.Errorf("Normalize(%q) = %q, want %q", in, got, want)
		}
		if !Known(in) {
			t.Errorf("Known(%q) = false", in)
		}
	}
}

func TestLoadRejectsUnknownNamesAndSplits(t *testing.T) {
	if _, err := Load("imagenet", Train); err == nil || !strings.Contains(err.Error(), "known:") {
		t.Errorf("unknown dataset: got %v, want an error listing the known ones", err)
	}
	if _, err := Load("mnist", "validation"); err == nil {
		t.Error("unknown split: got no error")
	}
}
