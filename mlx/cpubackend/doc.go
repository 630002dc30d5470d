// Package cpubackend is the project's CPU backend for GoMLX, registered as "cpu".
//
// Importing the package registers it, so GOMLX_BACKEND=cpu (or
// backends.NewWithConfig("cpu")) selects it. It wraps GoMLX's pure-Go backend
// (SimpleGo) and adds what that backend lacks for training convolutional models
// with the stock GoMLX layers and gradients:
//
//   - Pad (edges, negative edges and interior padding) and Reverse, which
//     GoMLX's gradients of Slice, sum pooling and convolution emit;
//   - SelectAndScatterMax/Min, the gradient of max/min pooling;
//   - BatchNormForTraining, BatchNormForInference and BatchNormGradient, used by
//     batchnorm.New with its defaults;
//   - ConvGeneral rebuilt as im2col (strided slices of the padded input) plus one
//     matrix product, which is many times faster than SimpleGo's single-threaded
//     convolution loop and also accepts the nil strides, input dilations
//     (transposed convolutions) and kernel dilations that GoMLX's convolution
//     gradients produce;
//   - Slice with nil strides, read as strides of 1.
//
// Every added operation is composed from operations SimpleGo already executes
// (Slice, Concatenate, Reshape, Transpose, Gather, DotGeneral, element-wise
// ops and reductions), so buffers, compilation and execution stay SimpleGo's.
//
// When a convolution's matrix product is small enough for SimpleGo's single-threaded
// product but has a long contraction (the gradient with respect to a kernel), the input
// channels are cut into one part per core and the partial products summed.
//
// The backend runs SimpleGo's scheduler with unlimited parallelism
// ("parallelism=-1") by default: the default bounded worker pool can deadlock
// when matrix products wait for workers from inside workers. Goroutines are
// still spread over all cores by the Go runtime. Other SimpleGo options can be
// passed in the configuration, e.g. GOMLX_BACKEND="cpu:ops_sequential". The option
// "conv=native" routes convolutions to SimpleGo's own loop instead of im2col, for
// comparison (with nil strides and dilations spelled out so that it accepts them).
//
// GoMLX v0.26.0 defines no gradient for Pad, Reverse or convolutions with input
// dilation, so models should not use graph.Pad or graph.Reverse in a forward
// pass that is trained. Up-sampling trains when written as zero insertion with
// Concatenate and Reshape, or as depth-to-space (Reshape and Transpose),
// followed by a convolution; both are tested here.
//
// GoMLX v0.26.0 computes a wrong gradient with respect to the input of a convolution whose
// kernel has an even size along some axis (its reverse convolution is padded one short at
// the start), on every backend; odd kernel sizes (1, 3, 5, ...) are exact. Layers that
// need an even kernel, such as a 2x2 transposed convolution, are better written as a 1x1
// convolution followed by depth-to-space.
package cpubackend
