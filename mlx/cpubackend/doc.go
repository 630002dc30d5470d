// Package cpubackend is the project's CPU backend for GoMLX, registered as "cpu".
//
// Importing the package registers it, so GOMLX_BACKEND=cpu (or
// backends.NewWithConfig("cpu")) selects it. It wraps GoMLX's pure-Go backend
// (SimpleGo): buffers, compilation and the graph executor are SimpleGo's, and the builder
// overrides or adds operations.
//
// # Kernels
//
// The hot operations run on this package's own kernels, for float32 and float64 (other
// dtypes go to SimpleGo's or to the compositions below):
//
//   - DotGeneral: a blocked, packed matrix product (GotoBLAS style) with micro-kernels in Go
//     assembly for AVX2+FMA, chosen at start-up by CPU feature detection, and a portable Go
//     micro-kernel elsewhere (or with the purego build tag). The operands are read in place
//     through offset tables, whatever their layout and batch axes. Work is cut across cores
//     by batch, rows, columns or depth, whichever repeats the least packing. MicroKernel says
//     which micro-kernel is in use. No cgo is involved.
//   - ConvGeneral (ungrouped; groups are split and joined): two-dimensional convolutions with
//     enough input channels are direct, the micro-kernel reading each output pixel's patch
//     rows where they lie in the input; the others use implicit im2col, the patches being
//     gathered while packing the matrix product's left operand. No patch matrix is ever
//     built. Nil strides, paddings and dilations, input dilation (transposed convolutions)
//     and kernel dilation are handled, so the convolution gradients GoMLX emits run on it
//     too; a kernel reversed by Reverse (the input gradient) is read backwards in place.
//   - Element-wise operations (Add, Sub, Mul, Div, Max, Min, Pow, Neg, Abs, Sign, Sqrt,
//     Rsqrt, Exp, Log, Tanh, Logistic) and Broadcast/BroadcastInDim are fused: each becomes a
//     node holding an expression over the non-element-wise nodes it reads, inlining the
//     expressions of its element-wise operands, and is evaluated chunk by chunk in the L1
//     cache with AVX loops for the common operations. At Compile, once every reader is known,
//     an inlined operand that is computed anyway, or that several readers inline and that
//     costs several operations, is read instead of recomputed. Batch normalisation is
//     composed through these (its statistics with the reduction kernel).
//   - ReduceSum/Max/Min, ReduceWindow (max, min and sum pooling), SelectAndScatterMax/Min
//     (the gradient of max pooling), Transpose (tiled), Slice, Concatenate and Reverse.
//
// How the kernels get executed: SimpleGo keeps one executor per operation type in an
// unexported table. The package reaches three unexported SimpleGo names with go:linkname
// (the executor registration, the table, read only, and the builder's node constructor) and
// registers one dispatcher for a carrier operation type that SimpleGo neither implements nor
// ever creates (its slot is checked empty at start-up). Kernel nodes are nodes of that type
// whose data field holds the kernel; the dispatcher runs it, with buffers handled through
// SimpleGo's exported API only. This was chosen over wrapping SimpleGo's executable (which
// would need the graph to be cut into SimpleGo parts and kernel parts and re-built) and over
// a backend of our own (which would re-implement a hundred operations and the executor):
// the bridge is a few lines, and kernel nodes are scheduled, freed and parallelised by
// SimpleGo like its own. Fusion planning also reads and, for fused nodes only, rewrites the
// unexported inputs field of SimpleGo's nodes (located by name and type at start-up; without
// it the planning is skipped). The plain "go" backend is unaffected: its builder never makes a
// node of the carrier type, no other executor changes, simplego.Capabilities is left alone,
// and a carrier node without a kernel fails as SimpleGo would fail it. Tests check all of
// this. If a later GoMLX lacks one of the names the build fails at link time; if the data
// field or a free carrier is missing, the kernels are switched off and everything is
// composed as below.
//
// The configuration "kernels=off" composes every operation from SimpleGo's, as the backend
// did before it had kernels; it is kept for comparison (bench/cpu -baseline) and testing,
// and is the path of the dtypes the kernels do not handle.
//
// # Composed operations
//
// What SimpleGo lacks for training convolutional models with the stock GoMLX layers and
// gradients is composed from operations SimpleGo executes:
//
//   - Pad (edges, negative edges and interior padding) and Reverse (for dtypes without a
//     kernel), which GoMLX's gradients of Slice, sum pooling and convolution emit;
//   - SelectAndScatterMax/Min, the gradient of max/min pooling;
//   - BatchNormForTraining, BatchNormForInference and BatchNormGradient, used by
//     batchnorm.New with its defaults;
//   - ConvGeneral for other dtypes, as im2col (strided slices of the padded input) plus one
//     matrix product;
//   - Slice with nil strides, read as strides of 1.
//
// The backend runs SimpleGo's scheduler with unlimited parallelism ("parallelism=-1") by
// default: the default bounded worker pool can deadlock when matrix products wait for workers
// from inside workers. Goroutines are still spread over all cores by the Go runtime, and the
// kernels cut their own work across cores. Other SimpleGo options can be passed in the
// configuration, e.g. GOMLX_BACKEND="cpu:ops_sequential". The option "conv=native" routes
// convolutions to SimpleGo's own loop instead, for comparison (with nil strides and dilations
// spelled out so that it accepts them).
//
// GoMLX v0.26.0 defines no gradient for Pad, Reverse or convolutions with input dilation, so
// models should not use graph.Pad or graph.Reverse in a forward pass that is trained.
// Up-sampling trains when written as zero insertion with Concatenate and Reshape, or as
// depth-to-space (Reshape and Transpose), followed by a convolution; both are tested here.
//
// GoMLX v0.26.0 computes a wrong gradient with respect to the input of a convolution whose
// kernel has an even size along some axis (its reverse convolution is padded one short at
// the start), on every backend; odd kernel sizes (1, 3, 5, ...) are exact. Layers that need
// an even kernel, such as a 2x2 transposed convolution, are better written as a 1x1
// convolution followed by depth-to-space.
package cpubackend
