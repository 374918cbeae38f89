#include "core/cuda_context.h"
#include "core/cuda_scratch.h"
#include "ops/max_pool.h"
#include "ops/max_pool_math.h"

namespace curec::cuda {
namespace {

constexpr int kBlock = 256;

// One thread per output (row r = n * c + channel, window j): the first maximum of the window,
// as the CPU picks it. The index goes to argmax (backward) or the value to y (forward).
__global__ void window_max_kernel(const float* __restrict__ x, int64_t rows, int64_t length, int64_t out_len,
                                  int64_t kernel, int64_t stride, float* __restrict__ y, int32_t* __restrict__ argmax) {
  CUREC_GRID_LOOP(k, rows * out_len) {
    const int64_t r = k / out_len, j = k - r * out_len;
    const float* row = x + r * length;
    const int64_t best = max_pool_math::window_argmax(row, j, kernel, stride);
    if (y) y[k] = row[best];
    if (argmax) argmax[k] = static_cast<int32_t>(best);
  }
}

// One thread per input element (r, t): the gradients of the windows whose maximum is t, in
// window order; every element is written, so no atomics and no zero fill.
__global__ void gather_grad_kernel(const int32_t* __restrict__ argmax, const float* __restrict__ dy, int64_t rows,
                                   int64_t length, int64_t out_len, int64_t kernel, int64_t stride,
                                   float* __restrict__ dx) {
  CUREC_GRID_LOOP(k, rows * length) {
    const int64_t r = k / length, t = k - r * length;
    dx[k] = max_pool_math::gather_grad(argmax + r * out_len, dy + r * out_len, t, kernel, stride, out_len);
  }
}

}  // namespace

void max_pool1d_forward(const float* x, float* y, int64_t n, int64_t c, int64_t length, int64_t kernel,
                        int64_t stride, int device) {
  const int64_t rows = n * c, out_len = (length - kernel) / stride + 1;
  if (rows * out_len == 0) return;
  DeviceGuard guard(device);
  window_max_kernel<<<grid_for(rows * out_len, kBlock), kBlock, 0, current_stream(device)>>>(
      x, rows, length, out_len, kernel, stride, y, nullptr);
  CUREC_KERNEL_CHECK();
}

void max_pool1d_backward(const float* x, const float* dy, float* dx, int64_t n, int64_t c, int64_t length,
                         int64_t kernel, int64_t stride, int device) {
  const int64_t rows = n * c, out_len = (length - kernel) / stride + 1;
  if (rows * length == 0) return;
  DeviceGuard guard(device);
  cudaStream_t s = current_stream(device);
  Scratch argmax(static_cast<size_t>(rows * out_len) * sizeof(int32_t), device);
  window_max_kernel<<<grid_for(rows * out_len, kBlock), kBlock, 0, s>>>(x, rows, length, out_len, kernel, stride,
                                                                       nullptr, argmax.get<int32_t>());
  CUREC_KERNEL_CHECK();
  gather_grad_kernel<<<grid_for(rows * length, kBlock), kBlock, 0, s>>>(argmax.get<int32_t>(), dy, rows, length,
                                                                       out_len, kernel, stride, dx);
  CUREC_KERNEL_CHECK();
}

}  // namespace curec::cuda
