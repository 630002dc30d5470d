package cpubackend

import (
	"reflect"
	"unsafe"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"
)

// materializeCost is the number of operations from which an expression inlined into several
// readers is computed once and read by them instead.
const materializeCost = 6

// nodeInputsOffset is the offset of the inputs field ([]*simplego.Node) of simplego.Node, or
// 0 when it is not there (then fused expressions are left as built).
var nodeInputsOffset uintptr

func init() {
	field, ok := reflect.TypeFor[simplego.Node]().FieldByName("inputs")
	if ok && field.Type == reflect.TypeFor[[]*simplego.Node]() {
		nodeInputsOffset = field.Offset
	}
}

// nodeInputs returns a pointer to the inputs of a SimpleGo node.
func nodeInputs(node *simplego.Node) *[]*simplego.Node {
	return (*[]*simplego.Node)(unsafe.Add(unsafe.Pointer(node), nodeInputsOffset))
}

// Compile plans the fused expressions of the graph (see planFusion), then compiles it with
// SimpleGo.
func (b *Builder) Compile(outputs []backends.Op, shardings []*backends.ShardingSpec) (
	backends.Executable, error) {
	if kernelsOK && b.backend.kernels && nodeInputsOffset != 0 {
		planFusion(outputs)
	}
	return b.Builder.Compile(outputs, shardings)
}

// planFusion revisits the fused expressions once the whole graph is known. Expressions are
// fused at build time by inlining their operands' expressions, not knowing yet who else reads
// those operands. Now, for each fused node the outputs depend on, an inlined operand is read
// as a leaf instead of being computed again when it is computed anyway (another node reads
// it), or when several fused nodes inline it and it costs at least materializeCost
// operations (it is then computed once). This repeats until nothing changes, as newly read
// operands may themselves inline others.
func planFusion(outputs []backends.Op) {
	for range 16 {
		reach := reachableNodes(outputs)
		readers := map[*simplego.Node]int{}
		inlinedBy := map[backends.Op]int{}
		for _, n := range reach {
			for _, in := range *nodeInputs(n) {
				readers[in]++
			}
			if f, ok := fusedOf(n); ok {
				seen := map[backends.Op]bool{}
				for _, s := range f.sources {
					if !seen[s.op] {
						seen[s.op] = true
						inlinedBy[s.op]++
					}
				}
			}
		}
		changed := false
		for _, n := range reach {
			f, ok := fusedOf(n)
			if !ok || len(f.sources) == 0 {
				continue
			}
			replace := map[int]backends.Op{}
			for _, s := range f.sources {
				src, ok := fusedOf(s.op)
				if !ok || s.node == len(f.nodes)-1 {
					continue
				}
				if readers[s.op.(*simplego.Node)] > 0 ||
					(inlinedBy[s.op] >= 2 && src.operations() >= materializeCost) {
					replace[s.node] = s.op
				}
			}
			if len(replace) == 0 {
				continue
			}
			f.replaceByLeaves(replace)
			inputs := make([]*simplego.Node, len(f.leaves))
			for i, l := range f.leaves {
				inputs[i] = l.op.(*simplego.Node)
			}
			*nodeInputs(n) = inputs
			changed = true
		}
		if !changed {
			return
		}
	}
}

// reachableNodes returns the nodes the outputs depend on, outputs included.
func reachableNodes(outputs []backends.Op) []*simplego.Node {
	seen := map[*simplego.Node]bool{}
	var out []*simplego.Node
	stack := make([]*simplego.Node, 0, len(outputs))
	for _, o := range outputs {
		if n, ok := o.(*simplego.Node); ok && n != nil {
			stack = append(stack, n)
		}
	}
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[n] {
			continue
		}
		seen[n] = true
		out = append(out, n)
		stack = append(stack, *nodeInputs(n)...)
	}
	return out
}

// operations returns the number of operations (non-leaf nodes) of the expression.
func (o *fusedOp) operations() int {
	n := 0
	for _, nd := range o.nodes {
		if nd.kind != fuseLeaf {
			n++
		}
	}
	return n
}

// replaceByLeaves turns the given nodes into leaves reading the given operands (of the
// expression's shape), drops what the result no longer depends on, and plans again.
func (o *fusedOp) replaceByLeaves(replace map[int]backends.Op) {
	// Nodes the result depends on, replaced nodes having no operands any more.
	used := make([]bool, len(o.nodes))
	stack := []int{len(o.nodes) - 1}
	for len(stack) > 0 {
		i := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if used[i] {
			continue
		}
		used[i] = true
		if _, ok := replace[i]; ok {
			continue
		}
		switch n := o.nodes[i]; {
		case n.kind == fuseLeaf:
		case n.kind < fuseAdd:
			stack = append(stack, n.a)
		default:
			stack = append(stack, n.a, n.b)
		}
	}

	size := o.shape.Size()
	var nodes []fuseNode
	var leaves []fuseInput
	leafOf := map[backends.Op]int{}
	addLeaf := func(l fuseInput) int {
		if i, ok := leafOf[l.op]; ok {
			return i
		}
		leaves = append(leaves, l)
		leafOf[l.op] = len(leaves) - 1
		return len(leaves) - 1
	}
	newIndex := make([]int, len(o.nodes))
	for i, n := range o.nodes {
		if !used[i] {
			continue
		}
		newIndex[i] = len(nodes)
		switch op, replaced := replace[i]; {
		case replaced:
			n = fuseNode{kind: fuseLeaf, a: addLeaf(fuseInput{op: op, div: 1, mod: size})}
		case n.kind == fuseLeaf:
			n.a = addLeaf(o.leaves[n.a])
		case n.kind < fuseAdd:
			n.a = newIndex[n.a]
		default:
			n.a, n.b = newIndex[n.a], newIndex[n.b]
		}
		nodes = append(nodes, n)
	}
	var sources []fuseSource
	for _, s := range o.sources {
		if _, replaced := replace[s.node]; used[s.node] && !replaced {
			sources = append(sources, fuseSource{op: s.op, node: newIndex[s.node]})
		}
	}
	o.nodes, o.leaves, o.sources = nodes, leaves, sources
	o.plan()
}
