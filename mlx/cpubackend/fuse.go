package cpubackend

import (
	"fmt"
	"math"
	"unsafe"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/shapeinference"
	"github.com/gomlx/gomlx/backends/simplego"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/shapes"
)

// Element-wise operations on float dtypes are fused: each one becomes a kernel node holding
// an expression over "leaves" (the non-element-wise nodes it reads), and an operand that is
// itself such a node of the same shape is inlined into the new expression rather than read.
// The expression is evaluated in chunks that stay in the L1 cache, so a chain such as the
// gradient of ReLU (Sub, Sign, Add, Sign, Mul) is one pass over memory instead of five, and
// intermediate results that nothing else reads are never computed on their own (SimpleGo
// skips nodes no output depends on). An intermediate that other nodes do read is computed
// once more for them: cheap for element-wise work.
//
// A leaf is read in full, as a scalar, or broadcast along the output's axes outside one
// contiguous run of its own axes (a per-channel vector, for instance); other broadcasts are
// left to SimpleGo.

// fuseKind is an element-wise operation of a fused expression.
type fuseKind uint8

const (
	fuseLeaf fuseKind = iota
	fuseNeg
	fuseAbs
	fuseSign
	fuseSqrt
	fuseRsqrt
	fuseExp
	fuseLog
	fuseTanh
	fuseLogistic
	fuseCopy
	fuseAdd // binary kinds from here on
	fuseSub
	fuseMul
	fuseDiv
	fuseMax
	fuseMin
	fusePow
)

// Limits of one fused expression; beyond them an operand is read as a leaf.
const (
	maxFuseNodes  = 32
	maxFuseLeaves = 8
	fuseChunk     = 512  // elements per chunk, unless a broadcast pattern asks otherwise
	maxFusePeriod = 2048 // longest broadcast pattern computed once per worker
)

// fuseNode is one step of an expression: a leaf (a is the leaf index) or an operation on
// earlier steps a (and b for binary operations).
type fuseNode struct {
	kind fuseKind
	a, b int
}

// fuseInput is an input (a leaf) of a fused expression: the value at flat output index i is
// flat[(i/div)%mod] (full: div 1 and mod the size; scalar: mod 1).
type fuseInput struct {
	op       backends.Op
	div, mod int
}

// fusedOp is a fused element-wise expression; its last node is the result.
type fusedOp struct {
	shape  shapes.Shape
	nodes  []fuseNode
	leaves []fuseInput

	// Evaluation: chunk length, a multiple of the period of every leaf marked periodic, whose
	// values over a chunk are then the same for every chunk.
	chunk    int
	periodic []bool

	// sources are the fused nodes whose expressions were inlined, with the node holding each
	// one's result here: planFusion replaces such a node by a leaf reading the source when the
	// source is computed anyway or is worth computing once for several readers.
	sources []fuseSource
}

// fuseSource is an inlined operand and the expression node holding its value.
type fuseSource struct {
	op   backends.Op
	node int
}

func (o *fusedOp) name() string              { return "fused element-wise" }
func (o *fusedOp) outputShape() shapes.Shape { return o.shape }

// fusedOf returns the fused expression computed by op, if op is such a node.
func fusedOf(op backends.Op) (*fusedOp, bool) {
	node, ok := op.(*simplego.Node)
	if !ok || node == nil || !kernelsOK {
		return nil, false
	}
	f, ok := (*nodeData(node)).(*fusedOp)
	return f, ok
}

// Element-wise operations of Builder. Each fuses on float dtypes and is SimpleGo's otherwise.

// Add returns lhs + rhs, element-wise.
func (b *Builder) Add(lhs, rhs backends.Op) (backends.Op, error) {
	return b.fuseBinary(fuseAdd, backends.OpTypeAdd, lhs, rhs, b.Builder.Add)
}

// Sub returns lhs - rhs, element-wise.
func (b *Builder) Sub(lhs, rhs backends.Op) (backends.Op, error) {
	return b.fuseBinary(fuseSub, backends.OpTypeSub, lhs, rhs, b.Builder.Sub)
}

// Mul returns lhs * rhs, element-wise.
func (b *Builder) Mul(lhs, rhs backends.Op) (backends.Op, error) {
	return b.fuseBinary(fuseMul, backends.OpTypeMul, lhs, rhs, b.Builder.Mul)
}

// Div returns lhs / rhs, element-wise.
func (b *Builder) Div(lhs, rhs backends.Op) (backends.Op, error) {
	return b.fuseBinary(fuseDiv, backends.OpTypeDiv, lhs, rhs, b.Builder.Div)
}

// Max returns the larger of lhs and rhs, element-wise.
func (b *Builder) Max(lhs, rhs backends.Op) (backends.Op, error) {
	return b.fuseBinary(fuseMax, backends.OpTypeMax, lhs, rhs, b.Builder.Max)
}

// Min returns the smaller of lhs and rhs, element-wise.
func (b *Builder) Min(lhs, rhs backends.Op) (backends.Op, error) {
	return b.fuseBinary(fuseMin, backends.OpTypeMin, lhs, rhs, b.Builder.Min)
}

// Pow returns lhs to the power rhs, element-wise.
func (b *Builder) Pow(lhs, rhs backends.Op) (backends.Op, error) {
	return b.fuseBinary(fusePow, backends.OpTypePow, lhs, rhs, b.Builder.Pow)
}

// Neg returns -x.
func (b *Builder) Neg(x backends.Op) (backends.Op, error) {
	return b.fuseUnary(fuseNeg, x, b.Builder.Neg)
}

// Abs returns |x|.
func (b *Builder) Abs(x backends.Op) (backends.Op, error) {
	return b.fuseUnary(fuseAbs, x, b.Builder.Abs)
}

// Sign returns -1, 0 or 1 as x is negative, zero or positive.
func (b *Builder) Sign(x backends.Op) (backends.Op, error) {
	return b.fuseUnary(fuseSign, x, b.Builder.Sign)
}

// Sqrt returns the square root of x.
func (b *Builder) Sqrt(x backends.Op) (backends.Op, error) {
	return b.fuseUnary(fuseSqrt, x, b.Builder.Sqrt)
}

// Rsqrt returns 1 / sqrt(x).
func (b *Builder) Rsqrt(x backends.Op) (backends.Op, error) {
	return b.fuseUnary(fuseRsqrt, x, b.Builder.Rsqrt)
}

// Exp returns e^x.
func (b *Builder) Exp(x backends.Op) (backends.Op, error) {
	return b.fuseUnary(fuseExp, x, b.Builder.Exp)
}

// Log returns the natural logarithm of x.
func (b *Builder) Log(x backends.Op) (backends.Op, error) {
	return b.fuseUnary(fuseLog, x, b.Builder.Log)
}

// Tanh returns the hyperbolic tangent of x.
func (b *Builder) Tanh(x backends.Op) (backends.Op, error) {
	return b.fuseUnary(fuseTanh, x, b.Builder.Tanh)
}

// Logistic returns 1 / (1 + e^-x).
func (b *Builder) Logistic(x backends.Op) (backends.Op, error) {
	return b.fuseUnary(fuseLogistic, x, b.Builder.Logistic)
}

// fuseUnary adds a fused unary operation, or calls fallback.
func (b *Builder) fuseUnary(kind fuseKind, x backends.Op,
	fallback func(backends.Op) (backends.Op, error)) (backends.Op, error) {
	shape, err := b.OpShape(x)
	if err != nil || !b.backend.kernelsFor(shape.DType) || shape.Size() == 0 {
		return fallback(x)
	}
	f := newFuser(shape)
	a, ok := f.operand(x, shape)
	if !ok {
		return fallback(x)
	}
	f.op.nodes = append(f.op.nodes, fuseNode{kind: kind, a: a})
	return f.add(b)
}

// fuseBinary adds a fused binary operation, or calls fallback.
func (b *Builder) fuseBinary(kind fuseKind, opType backends.OpType, lhs, rhs backends.Op,
	fallback func(backends.Op, backends.Op) (backends.Op, error)) (backends.Op, error) {
	ls, err := b.OpShape(lhs)
	if err != nil || !b.backend.kernelsFor(ls.DType) {
		return fallback(lhs, rhs)
	}
	rs, err := b.OpShape(rhs)
	if err != nil {
		return fallback(lhs, rhs)
	}
	shape, err := shapeinference.BinaryOp(opType, ls, rs)
	if err != nil || shape.Size() == 0 {
		return fallback(lhs, rhs)
	}
	for _, inline := range []bool{true, false} {
		// Inlining both operands may exceed the limits: then both are read as leaves.
		f := newFuser(shape)
		f.noInline = !inline
		a, okA := f.operand(lhs, ls)
		c, okB := f.operand(rhs, rs)
		if okA && okB {
			f.op.nodes = append(f.op.nodes, fuseNode{kind: kind, a: a, b: c})
			return f.add(b)
		}
	}
	return fallback(lhs, rhs)
}

// fuser builds a fused expression.
type fuser struct {
	op       *fusedOp
	noInline bool                // read every operand as a leaf
	leafNode map[backends.Op]int // node index of each leaf
	inlined  map[backends.Op]int // node index of each inlined operand
}

func newFuser(shape shapes.Shape) *fuser {
	return &fuser{op: &fusedOp{shape: shape}, leafNode: map[backends.Op]int{},
		inlined: map[backends.Op]int{}}
}

// add adds the expression to the graph.
func (f *fuser) add(b *Builder) (backends.Op, error) {
	inputs := make([]backends.Op, len(f.op.leaves))
	for i, l := range f.op.leaves {
		inputs[i] = l.op
	}
	f.op.plan()
	return addKernel(b.Builder, f.op, inputs...)
}

// plan chooses the chunk length: a multiple of the common period of the broadcast leaves
// when that is short, so that their values are filled in once per worker.
func (o *fusedOp) plan() {
	size := o.shape.Size()
	o.periodic = make([]bool, len(o.leaves))
	common := 1
	for i, l := range o.leaves {
		if l.mod == 1 || (l.div == 1 && l.mod == size) {
			continue
		}
		period := l.div * l.mod
		next := lcm(common, period)
		if next > maxFusePeriod {
			continue
		}
		common = next
		o.periodic[i] = true
	}
	o.chunk = max(1, fuseChunk/common) * common
}

// lcm returns the least common multiple of a and b (positive).
func lcm(a, b int) int {
	x, y := a, b
	for y != 0 {
		x, y = y, x%y
	}
	return a / x * b
}

// Broadcast prepends prefixDims axes to x, repeating it.
func (b *Builder) Broadcast(x backends.Op, prefixDims ...int) (backends.Op, error) {
	shape, err := b.OpShape(x)
	if err != nil || !b.backend.kernelsFor(shape.DType) {
		return b.Builder.Broadcast(x, prefixDims...)
	}
	out, err := shapeinference.BroadcastOp(shape, prefixDims)
	if err != nil {
		return nil, fmt.Errorf("cpubackend: Broadcast: %w", err)
	}
	expanded := append(ones(len(prefixDims)), shape.Dimensions...)
	return b.fuseBroadcast(x, out, expanded, func() (backends.Op, error) {
		return b.Builder.Broadcast(x, prefixDims...)
	})
}

// BroadcastInDim broadcasts x to outputShape, axis i of x becoming axis broadcastAxes[i].
func (b *Builder) BroadcastInDim(x backends.Op, outputShape shapes.Shape,
	broadcastAxes []int) (backends.Op, error) {
	fallback := func() (backends.Op, error) {
		return b.Builder.BroadcastInDim(x, outputShape, broadcastAxes)
	}
	shape, err := b.OpShape(x)
	if err != nil || !b.backend.kernelsFor(shape.DType) {
		return fallback()
	}
	if err := shapeinference.BroadcastInDimOp(shape, outputShape, broadcastAxes); err != nil {
		return nil, fmt.Errorf("cpubackend: BroadcastInDim: %w", err)
	}
	expanded := ones(outputShape.Rank())
	for i, a := range broadcastAxes {
		expanded[a] = shape.Dimensions[i]
	}
	return b.fuseBroadcast(x, outputShape, expanded, fallback)
}

// fuseBroadcast adds a fused copy of x (laid out as expanded) broadcast to out: a consumer
// that fuses reads x with the broadcast pattern and nothing is materialised.
func (b *Builder) fuseBroadcast(x backends.Op, out shapes.Shape, expanded []int,
	fallback func() (backends.Op, error)) (backends.Op, error) {
	if out.Size() == 0 {
		return fallback()
	}
	f := newFuser(out)
	div, mod, ok := broadcastPattern(expanded, out.Dimensions)
	if !ok {
		return fallback()
	}
	a := f.leaf(fuseInput{op: x, div: div, mod: mod})
	f.op.nodes = append(f.op.nodes, fuseNode{kind: fuseCopy, a: a})
	return f.add(b)
}

// operand returns the node index of x (shaped shape) in the expression, inlining x's own
// expression when it is a fused node of the output's shape and the limits allow. It reports
// false when x is broadcast in a way the kernel does not handle.
func (f *fuser) operand(x backends.Op, shape shapes.Shape) (int, bool) {
	if i, ok := f.inlined[x]; ok {
		return i, true
	}
	if src, ok := fusedOf(x); ok && !f.noInline && src.shape.Equal(f.op.shape) &&
		len(f.op.nodes)+len(src.nodes) < maxFuseNodes &&
		len(f.op.leaves)+len(src.leaves) <= maxFuseLeaves {
		remap := make([]int, len(src.nodes))
		for i, n := range src.nodes {
			if n.kind == fuseLeaf {
				remap[i] = f.leaf(src.leaves[n.a])
				continue
			}
			remap[i] = len(f.op.nodes)
			f.op.nodes = append(f.op.nodes, fuseNode{kind: n.kind, a: remap[n.a],
				b: remapped(remap, n)})
		}
		root := remap[len(remap)-1]
		f.op.sources = append(f.op.sources, fuseSource{op: x, node: root})
		for _, s := range src.sources {
			f.op.sources = append(f.op.sources, fuseSource{op: s.op, node: remap[s.node]})
		}
		f.inlined[x] = root
		return root, true
	}
	if len(f.op.leaves) >= maxFuseLeaves {
		return 0, false
	}
	div, mod, ok := broadcastPattern(shape.Dimensions, f.op.shape.Dimensions)
	if !ok {
		return 0, false
	}
	return f.leaf(fuseInput{op: x, div: div, mod: mod}), true
}

// remapped returns the new index of a binary node's second operand.
func remapped(remap []int, n fuseNode) int {
	if n.kind >= fuseAdd {
		return remap[n.b]
	}
	return 0
}

// leaf returns the node index reading l, adding the leaf when new.
func (f *fuser) leaf(l fuseInput) int {
	if i, ok := f.leafNode[l.op]; ok {
		return i
	}
	f.op.leaves = append(f.op.leaves, l)
	i := len(f.op.nodes)
	f.op.nodes = append(f.op.nodes, fuseNode{kind: fuseLeaf, a: len(f.op.leaves) - 1})
	f.leafNode[l.op] = i
	return i
}

// broadcastPattern returns div and mod such that the value of an operand shaped dims at
// flat output index i is at flat index (i/div)%mod, when the operand's axes larger than 1
// form one contiguous run of the output's axes (a scalar has mod 1).
func broadcastPattern(dims, out []int) (div, mod int, ok bool) {
	if len(dims) == 0 {
		return 1, 1, true
	}
	if len(dims) != len(out) {
		return 0, 0, false
	}
	first, last := -1, -1
	for a, d := range dims {
		if d == 1 {
			continue
		}
		if d != out[a] {
			return 0, 0, false
		}
		if first < 0 {
			first = a
		}
		last = a
	}
	if first < 0 {
		return 1, 1, true
	}
	for a := first; a <= last; a++ {
		if dims[a] != out[a] {
			return 0, 0, false // a broadcast axis inside the run
		}
	}
	return product(out[last+1:]), product(dims[first : last+1]), true
}

func (o *fusedOp) execute(backend *simplego.Backend, inputs []*simplego.Buffer,
	owned []bool) (*simplego.Buffer, error) {
	switch o.shape.DType {
	case dtypes.Float32:
		return runFused[float32](o, backend, inputs, owned), nil
	default:
		return runFused[float64](o, backend, inputs, owned), nil
	}
}

// fuseValue is the value of an expression node over one chunk: a slice, or a scalar.
type fuseValue[T float] struct {
	s      []T
	c      T
	scalar bool
}

// runFused evaluates the expression chunk by chunk, chunks spread over the cores. The result
// is written over an owned input read in full when there is one.
func runFused[T float](o *fusedOp, backend *simplego.Backend, inputs []*simplego.Buffer,
	owned []bool) *simplego.Buffer {
	size := o.shape.Size()
	leaves := make([][]T, len(inputs))
	for i, in := range inputs {
		leaves[i] = flatOf[T](backend, in)
	}
	var out *simplego.Buffer
	for i, l := range o.leaves {
		if l.div == 1 && l.mod == size {
			if buf, ok := takeOver(inputs, owned, i, backend, o.shape); ok {
				out = buf
				break
			}
		}
	}
	if out == nil {
		out = backend.NewBuffer(o.shape)
	}
	dst := flatOf[T](backend, out)
	chunk := o.chunk
	chunks := (size + chunk - 1) / chunk
	parallelRanges(chunks, max(1, 1<<14/chunk), func(from, to int) {
		scratch := getScratch[T](chunk * (len(o.nodes) + len(o.leaves)))
		defer putScratch(scratch)
		patterns := scratch[chunk*len(o.nodes):]
		for i, l := range o.leaves {
			if o.periodic[i] {
				leafValue(l, leaves[i], 0, chunk, size, patterns[i*chunk:(i+1)*chunk])
			}
		}
		vals := make([]fuseValue[T], len(o.nodes))
		last := len(o.nodes) - 1
		for ci := from; ci < to; ci++ {
			start := ci * chunk
			n := min(chunk, size-start)
			for k, nd := range o.nodes {
				buf := scratch[k*chunk : k*chunk+n]
				if k == last {
					buf = dst[start : start+n]
				}
				switch {
				case nd.kind == fuseLeaf && o.periodic[nd.a]:
					vals[k] = fuseValue[T]{s: patterns[nd.a*chunk : nd.a*chunk+n]}
				case nd.kind == fuseLeaf:
					vals[k] = leafValue(o.leaves[nd.a], leaves[nd.a], start, n, size, buf)
				case nd.kind < fuseAdd:
					vals[k] = unary(nd.kind, vals[nd.a], buf)
				default:
					vals[k] = binary(nd.kind, vals[nd.a], vals[nd.b], buf)
				}
			}
			if v := vals[last]; v.scalar {
				fill(dst[start:start+n], v.c)
			} else if &v.s[0] != &dst[start] {
				copy(dst[start:start+n], v.s)
			}
		}
	})
	return out
}

// leafValue returns the values of a leaf over [start, start+n), broadcast into buf when
// needed.
func leafValue[T float](l fuseInput, data []T, start, n, size int, buf []T) fuseValue[T] {
	switch {
	case l.mod == 1:
		return fuseValue[T]{c: data[0], scalar: true}
	case l.div == 1 && l.mod == size:
		return fuseValue[T]{s: data[start : start+n]}
	}
	q, r := start/l.div, start%l.div
	idx := q % l.mod
	for j := range buf {
		buf[j] = data[idx]
		r++
		if r == l.div {
			r = 0
			idx++
			if idx == l.mod {
				idx = 0
			}
		}
	}
	return fuseValue[T]{s: buf}
}

// unaryScalar applies a unary operation to one value.
func unaryScalar[T float](kind fuseKind, v T) T {
	switch kind {
	case fuseNeg:
		return -v
	case fuseCopy:
		return v
	case fuseAbs:
		return T(math.Abs(float64(v)))
	case fuseSign:
		switch {
		case v < 0:
			return -1
		case v > 0:
			return 1
		}
		return 0
	case fuseSqrt:
		return T(math.Sqrt(float64(v)))
	case fuseRsqrt:
		return T(1 / math.Sqrt(float64(v)))
	case fuseExp:
		return T(math.Exp(float64(v)))
	case fuseLog:
		return T(math.Log(float64(v)))
	case fuseTanh:
		return T(math.Tanh(float64(v)))
	case fuseLogistic:
		if v >= 0 {
			return T(1 / (1 + math.Exp(-float64(v))))
		}
		e := math.Exp(float64(v))
		return T(e / (1 + e))
	}
	panic("cpubackend: unknown unary fused operation")
}

// unary applies a unary operation to a chunk.
func unary[T float](kind fuseKind, a fuseValue[T], buf []T) fuseValue[T] {
	if a.scalar {
		return fuseValue[T]{c: unaryScalar(kind, a.c), scalar: true}
	}
	src := a.s[:len(buf)]
	switch kind {
	case fuseNeg:
		for i, v := range src {
			buf[i] = -v
		}
	case fuseCopy:
		copy(buf, src)
	case fuseSign:
		one := T(1)
		done := vecApply(fuseSign, formVS, buf, src, nil, &one)
		// Branch-free: signs of activations are unpredictable.
		for i := done; i < len(buf); i++ {
			v := src[i]
			buf[i] = T(boolInt(v > 0) - boolInt(v < 0))
		}
	case fuseAbs:
		for i, v := range src {
			if v < 0 {
				v = -v
			}
			buf[i] = v
		}
	default:
		for i, v := range src {
			buf[i] = unaryScalar(kind, v)
		}
	}
	return fuseValue[T]{s: buf}
}

// binaryScalar applies a binary operation to two values.
func binaryScalar[T float](kind fuseKind, a, b T) T {
	switch kind {
	case fuseAdd:
		return a + b
	case fuseSub:
		return a - b
	case fuseMul:
		return a * b
	case fuseDiv:
		return a / b
	case fuseMax:
		return max(a, b)
	case fuseMin:
		return min(a, b)
	case fusePow:
		return T(math.Pow(float64(a), float64(b)))
	}
	panic("cpubackend: unknown binary fused operation")
}

// binary applies a binary operation to a chunk: the leading values with an assembly loop
// where there is one, the rest with loops written out for the common operations.
func binary[T float](kind fuseKind, a, b fuseValue[T], buf []T) fuseValue[T] {
	n := len(buf)
	switch {
	case a.scalar && b.scalar:
		return fuseValue[T]{c: binaryScalar(kind, a.c, b.c), scalar: true}
	case b.scalar:
		x, c := a.s[:n], b.c
		done := vecApply(kind, formVS, buf, x, nil, &c)
		binaryVS(kind, buf[done:], x[done:], c)
	case a.scalar:
		c, y := a.c, b.s[:n]
		var done int
		switch kind {
		case fuseAdd, fuseMul, fuseMax, fuseMin:
			done = vecApply(kind, formVS, buf, y, nil, &c)
		default:
			done = vecApply(kind, formSV, buf, y, nil, &c)
		}
		for i := done; i < n; i++ {
			buf[i] = binaryScalar(kind, c, y[i])
		}
	default:
		x, y := a.s[:n], b.s[:n]
		done := vecApply(kind, formVV, buf, x, y, nil)
		binaryVV(kind, buf[done:], x[done:], y[done:])
	}
	return fuseValue[T]{s: buf}
}

// binaryVS computes buf = x op c.
func binaryVS[T float](kind fuseKind, buf, x []T, c T) {
	x = x[:len(buf)]
	switch kind {
	case fuseAdd:
		for i, v := range x {
			buf[i] = v + c
		}
	case fuseSub:
		for i, v := range x {
			buf[i] = v - c
		}
	case fuseMul:
		for i, v := range x {
			buf[i] = v * c
		}
	case fuseMax:
		for i, v := range x {
			buf[i] = max(v, c)
		}
	default:
		for i, v := range x {
			buf[i] = binaryScalar(kind, v, c)
		}
	}
}

// binaryVV computes buf = x op y.
func binaryVV[T float](kind fuseKind, buf, x, y []T) {
	x, y = x[:len(buf)], y[:len(buf)]
	switch kind {
	case fuseAdd:
		for i := range buf {
			buf[i] = x[i] + y[i]
		}
	case fuseSub:
		for i := range buf {
			buf[i] = x[i] - y[i]
		}
	case fuseMul:
		for i := range buf {
			buf[i] = x[i] * y[i]
		}
	default:
		for i := range buf {
			buf[i] = binaryScalar(kind, x[i], y[i])
		}
	}
}

// vecApply runs the assembly loop of kind in the given form over the leading values of buf
// (a multiple of the vector width), and returns how many it computed: 0 when there is no
// such loop. The vector operand is vec (and other, in form formVV); c is the scalar one.
func vecApply[T float](kind fuseKind, form int, buf, vec, other []T, c *T) int {
	var zero T
	size, width := 0, 8
	if unsafe.Sizeof(zero) == 8 {
		size, width = 1, 4
	}
	loop := vecLoops[size][kind][form]
	m := len(buf) &^ (width - 1)
	if loop == nil || m == 0 {
		return 0
	}
	dst, v := unsafe.Pointer(&buf[0]), unsafe.Pointer(&vec[0])
	switch form {
	case formVV:
		loop(dst, v, unsafe.Pointer(&other[0]), m)
	case formVS:
		loop(dst, v, unsafe.Pointer(c), m)
	default:
		loop(dst, unsafe.Pointer(c), v, m)
	}
	return m
}

// boolInt returns 1 for true and 0 for false (compiled without a branch).
func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
