package cpubackend

import (
	"fmt"
	"reflect"
	"slices"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/shapes"
)

// composer chains SimpleGo builder calls, keeping the first error: once an error is recorded
// every later call is a no-op returning nil, and the caller checks err once at the end.
type composer struct {
	b   *simplego.Builder
	op  string // name of the operation being composed, for error messages
	err error

	// kernels is set when the parts may run on this package's kernels.
	kernels bool

	// ew builds the element-wise operations and reductions: SimpleGo's builder, or this
	// package's (whose element-wise operations fuse) when the composition runs on kernels.
	ew arithmetic
}

// arithmetic is the part of a builder that composes element-wise operations and sums.
type arithmetic interface {
	Add(a, b backends.Op) (backends.Op, error)
	Sub(a, b backends.Op) (backends.Op, error)
	Mul(a, b backends.Op) (backends.Op, error)
	Div(a, b backends.Op) (backends.Op, error)
	Max(a, b backends.Op) (backends.Op, error)
	Min(a, b backends.Op) (backends.Op, error)
	Rsqrt(x backends.Op) (backends.Op, error)
	ReduceSum(x backends.Op, axes ...int) (backends.Op, error)
}

func newComposer(b *simplego.Builder, op string) *composer {
	return &composer{b: b, op: op, ew: b}
}

// check records err (if it is the first) and reports whether the chain is still healthy.
func (c *composer) check(step string, err error) bool {
	if err != nil && c.err == nil {
		c.err = fmt.Errorf("cpubackend: %s: %s: %w", c.op, step, err)
	}
	return c.err == nil
}

// failf records a validation error.
func (c *composer) failf(format string, args ...any) {
	if c.err == nil {
		c.err = fmt.Errorf("cpubackend: %s: %s", c.op, fmt.Sprintf(format, args...))
	}
}

func (c *composer) shape(x backends.Op) shapes.Shape {
	if c.err != nil {
		return shapes.Invalid()
	}
	s, err := c.b.OpShape(x)
	c.check("OpShape", err)
	return s
}

func (c *composer) dims(x backends.Op) []int {
	return slices.Clone(c.shape(x).Dimensions)
}

// result returns out, replacing it by an Identity when it is one of the inputs: a builder
// method must never hand back its input node.
func (c *composer) result(out backends.Op, inputs ...backends.Op) (backends.Op, error) {
	if c.err != nil {
		return nil, c.err
	}
	for _, in := range inputs {
		if in == out {
			id, err := c.b.Identity(out)
			c.check("Identity", err)
			return id, c.err
		}
	}
	return out, nil
}

func (c *composer) reshape(x backends.Op, dims ...int) backends.Op {
	if c.err != nil {
		return nil
	}
	if slices.Equal(c.shape(x).Dimensions, dims) {
		return x
	}
	y, err := c.b.Reshape(x, dims...)
	c.check("Reshape", err)
	return y
}

func (c *composer) transpose(x backends.Op, perm ...int) backends.Op {
	if c.err != nil {
		return nil
	}
	identity := true
	for i, p := range perm {
		if i != p {
			identity = false
			break
		}
	}
	if identity {
		return x
	}
	y, err := c.b.Transpose(x, perm...)
	c.check("Transpose", err)
	return y
}

// slice takes x[starts:limits:strides]; nil strides mean 1. A full-range slice returns x.
func (c *composer) slice(x backends.Op, starts, limits, strides []int) backends.Op {
	if c.err != nil {
		return nil
	}
	dims := c.shape(x).Dimensions
	if strides == nil {
		strides = ones(len(dims))
	}
	full := true
	for i, d := range dims {
		if starts[i] != 0 || limits[i] != d || (strides[i] != 1 && d > 1) {
			full = false
			break
		}
	}
	if full {
		return x
	}
	y, err := c.b.Slice(x, starts, limits, strides)
	c.check("Slice", err)
	return y
}

// sliceAxis takes x[start:limit] along one axis.
func (c *composer) sliceAxis(x backends.Op, axis, start, limit int) backends.Op {
	if c.err != nil {
		return nil
	}
	dims := c.shape(x).Dimensions
	starts := make([]int, len(dims))
	limits := slices.Clone(dims)
	starts[axis], limits[axis] = start, limit
	return c.slice(x, starts, limits, nil)
}

func (c *composer) concat(axis int, xs ...backends.Op) backends.Op {
	if c.err != nil {
		return nil
	}
	if len(xs) == 1 {
		return xs[0]
	}
	y, err := c.b.Concatenate(axis, xs...)
	c.check("Concatenate", err)
	return y
}

// scalar returns a scalar constant of dtype holding value (a float64, or any value of dtype's
// Go type).
func (c *composer) scalar(dtype dtypes.DType, value any) backends.Op {
	if c.err != nil {
		return nil
	}
	goType := dtype.GoType()
	if goType == nil {
		c.failf("unsupported dtype %s", dtype)
		return nil
	}
	flat := reflect.MakeSlice(reflect.SliceOf(goType), 1, 1)
	v := reflect.ValueOf(value)
	if v.Type() != goType {
		kind := goType.Kind()
		if f, ok := value.(float64); ok && (kind == reflect.Float32 || kind == reflect.Float64) {
			v = reflect.ValueOf(f).Convert(goType)
		} else if ok {
			// Other dtypes: build in float64 and let the backend convert.
			k, err := c.b.Constant([]float64{f})
			if !c.check("Constant", err) {
				return nil
			}
			y, err := c.b.ConvertDType(k, dtype)
			c.check("ConvertDType", err)
			return y
		} else {
			c.failf("constant %v (%T) does not match dtype %s", value, value, dtype)
			return nil
		}
	}
	flat.Index(0).Set(v)
	y, err := c.b.Constant(flat.Interface())
	c.check("Constant", err)
	return y
}

// fill returns a tensor of the given shape holding the scalar op value.
func (c *composer) fill(value backends.Op, shape shapes.Shape) backends.Op {
	if c.err != nil {
		return nil
	}
	y, err := c.b.BroadcastInDim(value, shape, nil)
	c.check("BroadcastInDim", err)
	return y
}

func (c *composer) binary(name string, fn func(a, b backends.Op) (backends.Op, error),
	a, b backends.Op) backends.Op {
	if c.err != nil {
		return nil
	}
	y, err := fn(a, b)
	c.check(name, err)
	return y
}

func (c *composer) add(a, b backends.Op) backends.Op { return c.binary("Add", c.ew.Add, a, b) }
func (c *composer) sub(a, b backends.Op) backends.Op { return c.binary("Sub", c.ew.Sub, a, b) }
func (c *composer) mul(a, b backends.Op) backends.Op { return c.binary("Mul", c.ew.Mul, a, b) }
func (c *composer) div(a, b backends.Op) backends.Op { return c.binary("Div", c.ew.Div, a, b) }
func (c *composer) max(a, b backends.Op) backends.Op { return c.binary("Max", c.ew.Max, a, b) }
func (c *composer) min(a, b backends.Op) backends.Op { return c.binary("Min", c.ew.Min, a, b) }
func (c *composer) equal(a, b backends.Op) backends.Op {
	return c.binary("Equal", c.b.Equal, a, b)
}
func (c *composer) and(a, b backends.Op) backends.Op {
	return c.binary("LogicalAnd", c.b.LogicalAnd, a, b)
}
func (c *composer) or(a, b backends.Op) backends.Op {
	return c.binary("LogicalOr", c.b.LogicalOr, a, b)
}

func (c *composer) not(x backends.Op) backends.Op {
	if c.err != nil {
		return nil
	}
	y, err := c.b.LogicalNot(x)
	c.check("LogicalNot", err)
	return y
}

func (c *composer) rsqrt(x backends.Op) backends.Op {
	if c.err != nil {
		return nil
	}
	y, err := c.ew.Rsqrt(x)
	c.check("Rsqrt", err)
	return y
}

func (c *composer) where(cond, onTrue, onFalse backends.Op) backends.Op {
	if c.err != nil {
		return nil
	}
	y, err := c.b.Where(cond, onTrue, onFalse)
	c.check("Where", err)
	return y
}

func (c *composer) reduceSum(x backends.Op, axes ...int) backends.Op {
	if c.err != nil {
		return nil
	}
	y, err := c.ew.ReduceSum(x, axes...)
	c.check("ReduceSum", err)
	return y
}

func (c *composer) dotGeneral(lhs backends.Op, lhsContracting, lhsBatch []int,
	rhs backends.Op, rhsContracting, rhsBatch []int) backends.Op {
	if c.err != nil {
		return nil
	}
	y, err := c.b.DotGeneral(lhs, lhsContracting, lhsBatch, rhs, rhsContracting, rhsBatch)
	c.check("DotGeneral", err)
	return y
}

// ones returns a slice of n ones.
func ones(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = 1
	}
	return s
}

// iotaInts returns [from, from+1, ..., to-1].
func iotaInts(from, to int) []int {
	s := make([]int, 0, max(to-from, 0))
	for i := from; i < to; i++ {
		s = append(s, i)
	}
	return s
}

// product returns the product of the values.
func product(values []int) int {
	p := 1
	for _, v := range values {
		p *= v
	}
	return p
}
