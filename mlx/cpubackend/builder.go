package cpubackend

import (
	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"
)

// Builder builds computations for Backend: it is SimpleGo's builder with the operations in
// this package's files overridden or added. Nodes, Compile and buffers are SimpleGo's.
//
// Calls made inside SimpleGo go to SimpleGo's own methods, never to these overrides.
type Builder struct {
	*simplego.Builder

	backend *Backend
}

// Compile-time check that Builder implements backends.Builder.
var _ backends.Builder = (*Builder)(nil)
