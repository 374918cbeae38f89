#include "ops/row_reduce.cuh"
#include "ops/softmax.h"

namespace curec::cuda {
namespace {

using softmax_math::MaskIndex;

// One block per row (grid-stride over rows): the row's max, its sum of exp, then the outputs.
__global__ void softmax_fwd_kernel(const float* __restrict__ x, const float* __restrict__ mask, MaskIndex mi,
                                   float* __restrict__ y, float* __restrict__ lse, int64_t rows, int64_t cols,
                                   bool log) {
  __shared__ float scratch[32];
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const float* xr = x + r * cols;
    const float* mr = mask ? mask + mi.row_offset(r) : nullptr;
    float m = softmax_math::kNegInf;
    for (int64_t j = threadIdx.x; j < cols; j += blockDim.x)
      m = fmaxf(m, softmax_math::masked(xr, mr, mi.col_stride, j));
    m = row::block_reduce(m, row::Max(), softmax_math::kNegInf, scratch);
    float s = 0.0f;
    if (m != softmax_math::kNegInf)
      for (int64_t j = threadIdx.x; j < cols; j += blockDim.x) s += expf(softmax_math::masked(xr, mr, mi.col_stride, j) - m);
    s = row::block_reduce(s, row::Sum(), 0.0f, scratch);
    const float l = m == softmax_math::kNegInf ? m : m + logf(s);
    for (int64_t j = threadIdx.x; j < cols; j += blockDim.x)
      y[r * cols + j] = softmax_math::value(softmax_math::masked(xr, mr, mi.col_stride, j), m, s, l, log);
    if (threadIdx.x == 0) lse[r] = l;
  }
}

__global__ void softmax_bwd_kernel(const float* __restrict__ y, const float* __restrict__ g,
                                   const float* __restrict__ lse, float* __restrict__ dx, int64_t rows, int64_t cols,
                                   bool log) {
  __shared__ float scratch[32];
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const float *yr = y + r * cols, *gr = g + r * cols;
    float dot = 0.0f;
    for (int64_t j = threadIdx.x; j < cols; j += blockDim.x) dot += log ? gr[j] : gr[j] * yr[j];
    dot = row::block_reduce(dot, row::Sum(), 0.0f, scratch);
    const bool live = lse[r] != softmax_math::kNegInf;
    for (int64_t j = threadIdx.x; j < cols; j += blockDim.x)
      dx[r * cols + j] = softmax_math::grad(yr[j], gr[j], dot, log, live);
  }
}

}  // namespace

void softmax_forward(const float* x, const float* mask, const MaskIndex& mi, float* y, float* lse, int64_t rows,
                     int64_t cols, bool log, int device) {
  if (rows * cols == 0) return;
  DeviceGuard guard(device);
  softmax_fwd_kernel<<<row::grid(rows), row::kBlock, 0, current_stream(device)>>>(x, mask, mi, y, lse, rows, cols, log);
  CUREC_KERNEL_CHECK();
}

void softmax_backward(const float* y, const float* g, const float* lse, float* dx, int64_t rows, int64_t cols,
                      bool log, int device) {
  if (rows * cols == 0) return;
  DeviceGuard guard(device);
  softmax_bwd_kernel<<<row::grid(rows), row::kBlock, 0, current_stream(device)>>>(y, g, lse, dx, rows, cols, log);
  CUREC_KERNEL_CHECK();
}

}  // namespace curec::cuda
