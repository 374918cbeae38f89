#pragma once
// 1-D max pooling over the last axis: x f32 [N, C, L] -> [N, C, (L - kernel) / stride + 1],
// windows starting at 0, stride, 2*stride, ... (stride 0 means stride = kernel). Caser pools
// each horizontal filter's feature map with kernel = its length: max over the whole time axis.
//
// Backward sends each window's gradient to its maximum; on ties to the first maximum in the
// window, on both backends: the CUDA kernels share the CPU's arithmetic (ops/max_pool_math.h),
// no cuDNN, so they agree bit for bit, ties and overlapping windows included. A NaN in a window
// wins the window on both backends.
#include "core/tensor.h"

namespace curec {

Tensor max_pool1d(const Tensor& x, int64_t kernel, int64_t stride = 0);

namespace cuda {
// x [n, c, length] -> y [n, c, (length - kernel) / stride + 1]; every element of dx is written,
// not accumulated.
void max_pool1d_forward(const float* x, float* y, int64_t n, int64_t c, int64_t length, int64_t kernel,
                        int64_t stride, int device);
void max_pool1d_backward(const float* x, const float* dy, float* dx, int64_t n, int64_t c, int64_t length,
                         int64_t kernel, int64_t stride, int device);
}  // namespace cuda

}  // namespace curec
