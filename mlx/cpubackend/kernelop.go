package cpubackend

import (
	"fmt"
	"reflect"
	"unsafe"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"
	"github.com/gomlx/gomlx/pkg/core/shapes"
)

// This file is the bridge that lets SimpleGo's executor run this package's kernels.
//
// SimpleGo keeps one executor per operation type in a package-level table and creates nodes
// with an unexported method. Three of its unexported names are reached with go:linkname:
//
//   - setNodeExecutor, to register one dispatcher for a carrier operation type: an operation
//     type that SimpleGo neither implements nor ever creates nodes for (its slot in the table
//     is empty, checked at start-up);
//   - nodeExecutors, read only, to find such a free slot;
//   - (*Builder).newNode, to add a node of the carrier type to a SimpleGo graph.
//
// The node's data field (found by name and type through reflection at start-up) holds a
// kernelOp, whose execute method the dispatcher calls. Buffers are handled only through
// SimpleGo's exported API (NewBuffer, BufferData, BufferShape).
//
// The plain "go" backend is unaffected: its builder never creates a node of the carrier type,
// its other executors and its capabilities are left as they are, and the dispatcher reports
// the same "not implemented" error SimpleGo would for a carrier node without a kernelOp.
// If any of the three names or the data field is missing (another GoMLX version), kernelsOK
// is false and the backend composes every operation from SimpleGo's as before.

// goExecutor has the layout of SimpleGo's unexported nodeExecutor type.
type goExecutor = func(backend *simplego.Backend, node *simplego.Node, inputs []*simplego.Buffer,
	inputsOwned []bool) (*simplego.Buffer, error)

//go:linkname goSetNodeExecutor github.com/gomlx/gomlx/backends/simplego.setNodeExecutor
func goSetNodeExecutor(opType backends.OpType, priority int, executor goExecutor)

//go:linkname goNodeExecutors github.com/gomlx/gomlx/backends/simplego.nodeExecutors
var goNodeExecutors [backends.OpTypeLast]goExecutor

//go:linkname goNewNode github.com/gomlx/gomlx/backends/simplego.(*Builder).newNode
func goNewNode(b *simplego.Builder, opType backends.OpType, shape shapes.Shape,
	inputs ...*simplego.Node) *simplego.Node

// carrierCandidates are operation types SimpleGo v0.26.0 does not implement, in order of
// preference; the first whose executor slot is empty carries this package's kernels.
var carrierCandidates = []backends.OpType{
	backends.OpTypeCollectiveBroadcast,
	backends.OpTypeAllGather,
	backends.OpTypeFFT,
}

// userPriority is SimpleGo's priority for user overrides (its priorityUser).
const userPriority = 100

var (
	// carrierOp is the operation type of kernel nodes; valid only when kernelsOK.
	carrierOp backends.OpType

	// kernelsOK reports whether the bridge is in place; when false, every operation is
	// composed from SimpleGo's.
	kernelsOK bool

	// kernelsProblem says why kernelsOK is false.
	kernelsProblem string

	// nodeDataOffset is the offset of the data field (of type any) in simplego.Node.
	nodeDataOffset uintptr
)

func init() {
	field, ok := reflect.TypeFor[simplego.Node]().FieldByName("data")
	if !ok || field.Type != reflect.TypeFor[any]() {
		kernelsProblem = "simplego.Node has no data field of type any"
		return
	}
	nodeDataOffset = field.Offset
	for _, op := range carrierCandidates {
		if goNodeExecutors[op] == nil {
			carrierOp = op
			break
		}
	}
	if carrierOp == backends.OpTypeInvalid {
		kernelsProblem = "no free operation type to carry kernels"
		return
	}
	goSetNodeExecutor(carrierOp, userPriority, dispatchKernel)
	kernelsOK = true
}

// kernelOp is an operation run by this package's code: a node of the carrier type holds one.
// execute must not modify its inputs unless it takes them over (see takeOver), and must return
// a buffer of outputShape.
type kernelOp interface {
	// name says what the kernel is, for error messages.
	name() string

	// outputShape is the shape of the result.
	outputShape() shapes.Shape

	// execute computes the result from the inputs.
	execute(backend *simplego.Backend, inputs []*simplego.Buffer, owned []bool) (
		*simplego.Buffer, error)
}

// nodeData returns a pointer to the data field of a SimpleGo node.
func nodeData(node *simplego.Node) *any {
	return (*any)(unsafe.Add(unsafe.Pointer(node), nodeDataOffset))
}

// dispatchKernel is the SimpleGo executor of the carrier operation type.
func dispatchKernel(backend *simplego.Backend, node *simplego.Node, inputs []*simplego.Buffer,
	owned []bool) (out *simplego.Buffer, err error) {
	op, ok := (*nodeData(node)).(kernelOp)
	if !ok {
		return nil, fmt.Errorf("Execute: node executor for op type %s not implemented!?",
			carrierOp)
	}
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("cpubackend: kernel %s: %v", op.name(), r)
		}
	}()
	return op.execute(backend, inputs, owned)
}

// addKernel adds a node running op on the inputs to the SimpleGo graph of b.
func addKernel(b *simplego.Builder, op kernelOp, inputs ...backends.Op) (backends.Op, error) {
	if !kernelsOK {
		return nil, fmt.Errorf("cpubackend: kernels unavailable: %s", kernelsProblem)
	}
	nodes := make([]*simplego.Node, len(inputs))
	for i, in := range inputs {
		// OpShape checks that the op is a live node of this builder.
		if _, err := b.OpShape(in); err != nil {
			return nil, fmt.Errorf("cpubackend: %s: input #%d: %w", op.name(), i, err)
		}
		nodes[i] = in.(*simplego.Node)
	}
	node := goNewNode(b, carrierOp, op.outputShape(), nodes...)
	*nodeData(node) = op
	return node, nil
}

// takeOver returns inputs[i] when it is owned and has the dtype and size of shape, so that a
// kernel can write its result in place; it reports false otherwise. A taken-over input is
// removed from inputs, as SimpleGo's own executors do, so that it is not freed twice.
//
// Ownership is SimpleGo's: an input is owned by the last node to read it, which SimpleGo
// decides from a count of finished readers that it reads without a lock in parallel mode, so
// the race detector reports writes to taken-over inputs, as it does for SimpleGo's own
// in-place operations.
func takeOver(inputs []*simplego.Buffer, owned []bool, i int, backend *simplego.Backend,
	shape shapes.Shape) (*simplego.Buffer, bool) {
	if !owned[i] {
		return nil, false
	}
	s, err := backend.BufferShape(inputs[i])
	if err != nil || s.DType != shape.DType || s.Size() != shape.Size() {
		return nil, false
	}
	if !s.Equal(shape) {
		return nil, false
	}
	buf := inputs[i]
	inputs[i] = nil
	return buf, true
}

// flatOf returns the flat data of a buffer as a []T.
func flatOf[T any](backend *simplego.Backend, buf *simplego.Buffer) []T {
	flat, err := backend.BufferData(buf)
	if err != nil {
		panic(err)
	}
	return flat.([]T)
}
