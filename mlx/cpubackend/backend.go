package cpubackend

import (
	"fmt"
	"os"
	"strings"
	"sync"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"
)

// BackendName is the name under which the backend is registered with GoMLX (GOMLX_BACKEND=cpu).
const BackendName = "cpu"

// DefaultParallelism is the SimpleGo worker-pool setting used unless the configuration sets
// "parallelism": -1 means unbounded goroutines, which avoids the deadlock of the bounded pool.
const DefaultParallelism = -1

func init() {
	backends.Register(BackendName, New)
}

// addedOps lists the operations this backend adds to SimpleGo's.
var addedOps = []backends.OpType{
	backends.OpTypePad,
	backends.OpTypeReverse,
	backends.OpTypeSelectAndScatterMax,
	backends.OpTypeSelectAndScatterMin,
	backends.OpTypeBatchNormForTraining,
	backends.OpTypeBatchNormForInference,
	backends.OpTypeBatchNormGradient,
}

// Backend is the dlexp CPU backend: SimpleGo's backend with the operations of Builder added.
type Backend struct {
	*simplego.Backend

	config       string
	capabilities backends.Capabilities
	nativeConv   bool // ConvGeneral by SimpleGo's own loop instead of im2col
	kernels      bool // this package's kernels (matrix product, convolution, ...) in use
}

// Compile-time check that Backend implements backends.Backend.
var _ backends.Backend = (*Backend)(nil)

// New returns a new CPU backend. The config is a comma-separated list of options: this
// backend's own and SimpleGo's (e.g. "parallelism=2,ops_sequential"); "parallelism=-1" is
// added unless config sets it. This backend's options:
//
//   - "kernels=on" (default) runs matrix products, convolutions and the other hot operations
//     on this package's kernels; "kernels=off" composes everything from SimpleGo's
//     operations, as the backend did before it had kernels (kept for comparison);
//   - "conv=im2col" (default) or "conv=native" for SimpleGo's own convolution loop (kept for
//     comparison; it implies kernels=off for convolutions).
func New(config string) (backends.Backend, error) {
	return NewBackend(config)
}

// NewBackend is New returning the concrete type.
func NewBackend(config string) (*Backend, error) {
	var goOptions []string
	nativeConv, kernels := false, true
	for _, part := range strings.Split(config, ",") {
		part = strings.TrimSpace(part)
		name, value, _ := strings.Cut(part, "=")
		switch {
		case part == "":
		case name == "conv" && value == "im2col":
			nativeConv = false
		case name == "conv" && value == "native":
			nativeConv = true
		case name == "conv":
			return nil, fmt.Errorf("cpubackend: config %q: conv must be im2col or native, got %q",
				config, value)
		case name == "kernels" && (value == "on" || value == "off"):
			kernels = value == "on"
		case name == "kernels":
			return nil, fmt.Errorf("cpubackend: config %q: kernels must be on or off, got %q",
				config, value)
		default:
			goOptions = append(goOptions, part)
		}
	}
	goConfig := strings.Join(goOptions, ",")
	if !hasOption(goConfig, "parallelism") {
		opt := fmt.Sprintf("parallelism=%d", DefaultParallelism)
		if goConfig == "" {
			goConfig = opt
		} else {
			goConfig = opt + "," + goConfig
		}
	}
	inner, err := newQuietSimpleGo(goConfig)
	if err != nil {
		return nil, fmt.Errorf("cpubackend: config %q: %w", config, err)
	}
	goBackend, ok := inner.(*simplego.Backend)
	if !ok {
		return nil, fmt.Errorf("cpubackend: SimpleGo returned a %T, not *simplego.Backend", inner)
	}
	caps := simplego.Capabilities.Clone()
	for _, op := range addedOps {
		caps.Operations[op] = true
	}
	return &Backend{Backend: goBackend, config: config, capabilities: caps,
		nativeConv: nativeConv, kernels: kernels}, nil
}

// hasOption reports whether the comma-separated config holds key, alone or as key=value.
func hasOption(config, key string) bool {
	for _, part := range strings.Split(config, ",") {
		name, _, _ := strings.Cut(strings.TrimSpace(part), "=")
		if name == key {
			return true
		}
	}
	return false
}

// stdoutMu serialises the short window in which os.Stdout is silenced.
var stdoutMu sync.Mutex

// newQuietSimpleGo builds a SimpleGo backend without the line it prints on stdout when the
// parallelism option is given.
func newQuietSimpleGo(config string) (backends.Backend, error) {
	if !hasOption(config, "parallelism") {
		return simplego.New(config)
	}
	devNull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		return simplego.New(config)
	}
	defer devNull.Close()

	stdoutMu.Lock()
	saved := os.Stdout
	os.Stdout = devNull
	defer func() {
		os.Stdout = saved
		stdoutMu.Unlock()
	}()
	return simplego.New(config)
}

// Name returns the name of the backend, "dlexp CPU (cpu)".
func (b *Backend) Name() string { return "dlexp CPU (" + BackendName + ")" }

// String returns the registered name, "cpu".
func (b *Backend) String() string { return BackendName }

// Description says what the backend is.
func (b *Backend) Description() string {
	return "dlexp CPU backend: pure Go (SimpleGo) with im2col convolutions, pooling gradients, " +
		"batch normalisation, Pad and Reverse"
}

// Config returns the configuration string the backend was created with.
func (b *Backend) Config() string { return b.config }

// Capabilities returns SimpleGo's capabilities plus the operations this backend adds.
func (b *Backend) Capabilities() backends.Capabilities { return b.capabilities }

// Builder returns a builder for a new computation named name.
func (b *Backend) Builder(name string) backends.Builder {
	inner, ok := b.Backend.Builder(name).(*simplego.Builder)
	if !ok {
		// SimpleGo always returns *simplego.Builder; anything else is a GoMLX version mismatch.
		panic(fmt.Sprintf("cpubackend: SimpleGo builder has unexpected type %T", b.Backend.Builder(name)))
	}
	return &Builder{Builder: inner, backend: b}
}
