//go:build cgo && linux && amd64 && !noxla

package backend

import (
	"io"

	"github.com/gomlx/gomlx/backends/xla"
	"k8s.io/klog/v2"

	"github.com/dlexp/dlexp/mlx/logs"
)

// The xla backend is linked in, with its automatic download of missing plugins turned off:
// plugins are only ever taken from local folders. Its own logger (klog) is silenced unless
// DLEXP_VERBOSE is set: its failures come back as errors, and New reports them in one line.
func init() {
	xla.EnableAutoInstall(false)
	xlaCompiled = true
	if !logs.Verbose() {
		klog.LogToStderr(false)
		klog.SetOutput(io.Discard)
	}
}
