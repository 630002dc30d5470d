package main

import (
	"fmt"
	"slices"
	"sort"
	"syscall"
	"time"

	"github.com/dlexp/dlexp/datasets/cityscapes"
)

// Implementations measured.
const (
	implDlexp    = "dlexp"          // the "cpu" backend (or dlexp's Go code for data cases)
	implBaseline = "dlexp-composed" // the "cpu" backend with kernels=off
	implTorch    = "pytorch"
	implNumpy    = "numpy"
	implGoNB     = "gonb" // a plain cell of the same kernel
)

// params are the shapes and settings of a case, shared with the peer scripts (as JSON).
type params struct {
	// Models.
	Model    string `json:"model,omitempty"` // "unet", "fcdensenet"
	Preset   string `json:"preset,omitempty"`
	Mode     string `json:"mode,omitempty"` // "train" or "forward"
	Batch    int    `json:"batch,omitempty"`
	Height   int    `json:"height,omitempty"`
	Width    int    `json:"width,omitempty"`
	Channels int    `json:"channels,omitempty"`
	Classes  int    `json:"classes,omitempty"` // FC-DenseNet: classes; label Classes is void

	// FC-DenseNet architecture of the preset, for the peer (the Go side uses the preset).
	FirstFilters int     `json:"first_filters,omitempty"`
	Growth       int     `json:"growth,omitempty"`
	DownLayers   []int   `json:"down_layers,omitempty"`
	Bottleneck   int     `json:"bottleneck_layers,omitempty"`
	Dropout      float64 `json:"dropout,omitempty"`

	// UNet architecture of the preset, for the peer.
	Depth        int  `json:"depth,omitempty"`
	BaseChannels int  `json:"base_channels,omitempty"`
	UnitOutput   bool `json:"unit_output,omitempty"` // a sigmoid on the output

	// Data cases.
	Images    string `json:"images,omitempty"` // MNIST IDX files (gzipped)
	Labels    string `json:"labels,omitempty"`
	Factor    int    `json:"factor,omitempty"`     // Cityscapes downscaling
	NumLabels int    `json:"num_labels,omitempty"` // Cityscapes label ids are below it
}

// benchCase is one row of the table.
type benchCase struct {
	Name   string
	Title  string
	Params params
	Peer   string // implementation of the peer
	Model  bool   // a model on a backend: -baseline adds a kernels=off run

	// noMemory is set when the child's peak memory says nothing (the notebook case, whose
	// script drives a kernel in other processes).
	noMemory bool

	// measure times the dlexp side in a child process; nil when the peer script measures
	// both sides (the notebook case).
	measure func(p params, impl string, o options) (measurement, error)
}

// measurement is the result of one implementation on one case.
type measurement struct {
	Case    string    `json:"case"`
	Impl    string    `json:"impl"`
	Seconds []float64 `json:"seconds,omitempty"`     // each timed repeat
	Median  float64   `json:"median_s,omitempty"`    // median of Seconds
	CPU     float64   `json:"cpu_s,omitempty"`       // CPU seconds per repeat
	Items   int       `json:"items,omitempty"`       // images or frames per repeat
	PerSec  float64   `json:"items_per_s,omitempty"` // Items / Median
	PeakMiB float64   `json:"peak_rss_mib,omitempty"`
	Params  int       `json:"parameters,omitempty"` // trainable parameters of a model
	Version string    `json:"version,omitempty"`
	Note    string    `json:"note,omitempty"`
	Skipped string    `json:"skipped,omitempty"`
	Error   string    `json:"error,omitempty"`
}

// FC-DenseNet architectures of the presets in mlx/fcdensenet, for the peer.
var fcPresets = map[string]params{
	"FCDenseNet56": {FirstFilters: 48, Growth: 12, DownLayers: []int{4, 4, 4, 4, 4}, Bottleneck: 4},
	"FCDenseNet103": {FirstFilters: 48, Growth: 16, DownLayers: []int{4, 5, 7, 10, 12},
		Bottleneck: 15},
	"Tiny": {FirstFilters: 8, Growth: 4, DownLayers: []int{2, 2}, Bottleneck: 2},
}

// fcParams returns the parameters of an FC-DenseNet case.
func fcParams(preset, mode string, batch, h, w int) params {
	p := fcPresets[preset]
	p.Model, p.Preset, p.Mode = "fcdensenet", preset, mode
	p.Batch, p.Height, p.Width, p.Channels, p.Classes = batch, h, w, 4, 11
	p.Dropout = 0.2
	return p
}

// unetParams returns the parameters of a UNet denoiser case.
func unetParams(mode string, batch, size int) params {
	return params{Model: "unet", Preset: "Denoiser", Mode: mode, Batch: batch, Height: size,
		Width: size, Channels: 1, Depth: 2, BaseChannels: 16, UnitOutput: true}
}

// unit says how the table shows the case's times: per step for models, per item for
// data, per cell for the notebook.
func (c benchCase) unit() string {
	switch {
	case c.Model:
		return "step"
	case c.measure == nil:
		return "cell"
	}
	return "items"
}

// allCases returns the cases in table order, at benchmark or at tiny (quick) sizes.
func allCases(quick bool) []benchCase {
	unetBatch, fc56, fc103 := 64, fcParams("FCDenseNet56", "train", 4, 64, 64),
		fcParams("FCDenseNet103", "forward", 1, 128, 256)
	cityH, cityW := 1024, 2048
	if quick {
		unetBatch = 2
		fc56 = fcParams("Tiny", "train", 1, 16, 16)
		fc103 = fcParams("Tiny", "forward", 1, 16, 32)
		cityH, cityW = 64, 128
	}
	return []benchCase{
		{Name: "unet-train", Title: fmt.Sprintf("UNet denoiser train step, %dx28x28x1", unetBatch),
			Params: unetParams("train", unetBatch, 28), Peer: implTorch, Model: true,
			measure: measureModel},
		{Name: "unet-forward", Title: fmt.Sprintf("UNet denoiser forward, %dx28x28x1", unetBatch),
			Params: unetParams("forward", unetBatch, 28), Peer: implTorch, Model: true,
			measure: measureModel},
		{Name: "fcdensenet56-train", Title: fmt.Sprintf("%s train step, %dx%dx%dx4",
			fc56.Preset, fc56.Batch, fc56.Height, fc56.Width),
			Params: fc56, Peer: implTorch, Model: true, measure: measureModel},
		{Name: "fcdensenet103-forward", Title: fmt.Sprintf("%s forward, %dx%dx%dx4",
			fc103.Preset, fc103.Batch, fc103.Height, fc103.Width),
			Params: fc103, Peer: implTorch, Model: true, measure: measureModel},
		{Name: "mnist-read", Title: "MNIST read+decode (train, gz IDX)", Peer: implNumpy,
			measure: measureMNIST},
		{Name: "cityscapes-downscale", Title: fmt.Sprintf("Cityscapes frame %dx%d downscale x8",
			cityW, cityH), Params: params{Height: cityH, Width: cityW, Factor: 8,
			NumLabels: cityscapes.NumLabels},
			Peer: implNumpy, measure: measureCityscapes},
		{Name: "notebook-cell", Title: "warm cell: import zoo, build UNet", Peer: implGoNB,
			noMemory: true},
	}
}

// selectCases returns the named cases in table order (all of them for no names).
func selectCases(names []string, quick bool) ([]benchCase, error) {
	cases := allCases(quick)
	if len(names) == 0 {
		return cases, nil
	}
	var out []benchCase
	for _, c := range cases {
		if slices.Contains(names, c.Name) {
			out = append(out, c)
		}
	}
	for _, n := range names {
		if !slices.ContainsFunc(cases, func(c benchCase) bool { return c.Name == n }) {
			return nil, fmt.Errorf("unknown case %q (see -list)", n)
		}
	}
	return out, nil
}

// timeRepeats runs fn warmup times untimed, then repeats times timed; it returns the seconds
// of each timed run and the process CPU seconds per timed run.
func timeRepeats(warmup, repeats int, fn func() error) (seconds []float64, cpu float64,
	err error) {
	for range warmup {
		if err := fn(); err != nil {
			return nil, 0, err
		}
	}
	cpuBefore := cpuSeconds()
	for range repeats {
		start := time.Now()
		if err := fn(); err != nil {
			return nil, 0, err
		}
		seconds = append(seconds, time.Since(start).Seconds())
	}
	return seconds, (cpuSeconds() - cpuBefore) / float64(repeats), nil
}

// median returns the median of xs (the mean of the middle two for an even count).
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// finish fills the summary fields of m from its seconds.
func (m *measurement) finish() {
	m.Median = median(m.Seconds)
	if m.Median > 0 && m.Items > 0 {
		m.PerSec = float64(m.Items) / m.Median
	}
}

// cpuSeconds returns the user plus system CPU time of the process so far.
func cpuSeconds() float64 {
	var u syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &u); err != nil {
		return 0
	}
	return time.Duration(u.Utime.Nano() + u.Stime.Nano()).Seconds()
}
