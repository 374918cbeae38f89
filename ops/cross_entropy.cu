#include "ops/cross_entropy.h"
#include "ops/row_reduce.cuh"

namespace curec::cuda {
namespace {

namespace ce = cross_entropy_math;

// One block per row: its max, its sum of exp; thread 0 checks the target and writes the loss.
__global__ void ce_fwd_kernel(const float* __restrict__ x, const void* targets, bool wide, int64_t ignore,
                              float* __restrict__ loss, float* __restrict__ valid, float* __restrict__ lse, int64_t n,
                              int64_t c, DeviceErrorFlag* flag) {
  __shared__ float scratch[32];
  for (int64_t i = blockIdx.x; i < n; i += gridDim.x) {
    const float* xr = x + i * c;
    float m = -INFINITY;
    for (int64_t j = threadIdx.x; j < c; j += blockDim.x) m = fmaxf(m, xr[j]);
    m = row::block_reduce(m, row::Max(), -INFINITY, scratch);
    float s = 0.0f;
    for (int64_t j = threadIdx.x; j < c; j += blockDim.x) s += expf(xr[j] - m);
    s = row::block_reduce(s, row::Sum(), 0.0f, scratch);
    if (threadIdx.x == 0) {
      const int64_t t = ce::target_at(targets, wide, i);
      const float l = m + logf(s);
      const bool ignored = t == ignore, in_range = t >= 0 && t < c;
      if (!ignored && !in_range) raise_error(flag, kClassOutOfRange, t, c);
      const bool counted = !ignored && in_range;
      lse[i] = l;
      loss[i] = counted ? ce::row_loss(xr[t], m, s) : 0.0f;
      valid[i] = counted ? 1.0f : 0.0f;
    }
  }
}

__global__ void ce_bwd_kernel(const float* __restrict__ x, const void* targets, bool wide, int64_t ignore,
                              const float* __restrict__ lse, loss::Upstream up, float* __restrict__ dx, int64_t n,
                              int64_t c) {
  CUREC_GRID_LOOP(k, n * c) {
    const int64_t i = k / c, j = k % c;
    const int64_t t = ce::target_at(targets, wide, i);
    const bool counted = t != ignore && t >= 0 && t < c;
    dx[k] = counted ? ce::grad(x[k], lse[i], j == t, loss::upstream_at(up, i)) : 0.0f;
  }
}

}  // namespace

void cross_entropy_forward(const float* x, const void* targets, bool wide, int64_t ignore_index, float* loss,
                           float* valid, float* lse, int64_t n, int64_t c, int device) {
  if (n == 0) return;
  DeviceGuard guard(device);
  ce_fwd_kernel<<<row::grid(n), row::kBlock, 0, current_stream(device)>>>(x, targets, wide, ignore_index, loss, valid,
                                                                          lse, n, c, device_error_flag(device));
  CUREC_KERNEL_CHECK();
}

void cross_entropy_backward(const float* x, const void* targets, bool wide, int64_t ignore_index, const float* lse,
                            loss::Upstream up, float* dx, int64_t n, int64_t c, int device) {
  if (n * c == 0) return;
  DeviceGuard guard(device);
  ce_bwd_kernel<<<grid_for(n * c), 256, 0, current_stream(device)>>>(x, targets, wide, ignore_index, lse, up, dx, n, c);
  CUREC_KERNEL_CHECK();
}

}  // namespace curec::cuda
