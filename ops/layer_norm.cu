#include "ops/layer_norm.h"
#include "ops/row_reduce.cuh"

namespace curec::cuda {
namespace {

namespace ln = layer_norm_math;

// One block per row: the mean, then the variance about it (two passes, for accuracy), then y.
__global__ void ln_fwd_kernel(const float* __restrict__ x, const float* __restrict__ w, const float* __restrict__ b,
                              float eps, float* __restrict__ y, float* __restrict__ mean, float* __restrict__ rstd,
                              int64_t rows, int64_t cols) {
  __shared__ float scratch[32];
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const float* xr = x + r * cols;
    float s = 0.0f;
    for (int64_t j = threadIdx.x; j < cols; j += blockDim.x) s += xr[j];
    const float mu = row::block_reduce(s, row::Sum(), 0.0f, scratch) / static_cast<float>(cols);
    float v = 0.0f;
    for (int64_t j = threadIdx.x; j < cols; j += blockDim.x) v += (xr[j] - mu) * (xr[j] - mu);
    v = row::block_reduce(v, row::Sum(), 0.0f, scratch);
    const float rs = rsqrtf(v / static_cast<float>(cols) + eps);
    for (int64_t j = threadIdx.x; j < cols; j += blockDim.x) y[r * cols + j] = ln::affine((xr[j] - mu) * rs, w, b, j);
    if (threadIdx.x == 0) {
      mean[r] = mu;
      rstd[r] = rs;
    }
  }
}

__global__ void ln_bwd_kernel(const float* __restrict__ x, const float* __restrict__ w, const float* __restrict__ g,
                              const float* __restrict__ mean, const float* __restrict__ rstd, float* __restrict__ dx,
                              float* __restrict__ g_xhat, int64_t rows, int64_t cols) {
  __shared__ float scratch[32];
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const float *xr = x + r * cols, *gr = g + r * cols;
    const float mu = mean[r], rs = rstd[r];
    float a = 0.0f, c = 0.0f;
    for (int64_t j = threadIdx.x; j < cols; j += blockDim.x) {
      const float xhat = (xr[j] - mu) * rs, dxhat = gr[j] * (w ? w[j] : 1.0f);
      a += dxhat;
      c += dxhat * xhat;
      if (g_xhat) g_xhat[r * cols + j] = gr[j] * xhat;
    }
    if (!dx) continue;  // the same for the whole block: no thread skips a barrier another reaches
    a = row::block_reduce(a, row::Sum(), 0.0f, scratch) / static_cast<float>(cols);
    c = row::block_reduce(c, row::Sum(), 0.0f, scratch) / static_cast<float>(cols);
    for (int64_t j = threadIdx.x; j < cols; j += blockDim.x)
      dx[r * cols + j] = ln::grad((xr[j] - mu) * rs, gr[j] * (w ? w[j] : 1.0f), a, c, rs);
  }
}

}  // namespace

void layer_norm_forward(const float* x, const float* w, const float* b, float eps, float* y, float* mean, float* rstd,
                        int64_t rows, int64_t cols, int device) {
  if (rows * cols == 0) return;
  DeviceGuard guard(device);
  ln_fwd_kernel<<<row::grid(rows), row::kBlock, 0, current_stream(device)>>>(x, w, b, eps, y, mean, rstd, rows, cols);
  CUREC_KERNEL_CHECK();
}

void layer_norm_backward(const float* x, const float* w, const float* g, const float* mean, const float* rstd,
                         float* dx, float* g_xhat, int64_t rows, int64_t cols, int device) {
  if (rows * cols == 0 || (!dx && !g_xhat)) return;
  DeviceGuard guard(device);
  ln_bwd_kernel<<<row::grid(rows), row::kBlock, 0, current_stream(device)>>>(x, w, g, mean, rstd, dx, g_xhat, rows,
                                                                             cols);
  CUREC_KERNEL_CHECK();
}

}  // namespace curec::cuda
