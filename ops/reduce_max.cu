#include "core/cuda_context.h"
#include "ops/reduce_max.h"

namespace curec::cuda {
namespace {

// One thread per output: for inner > 1 neighbouring threads read neighbouring columns.
__global__ void max_fwd(const float* __restrict__ x, float* values, int64_t* indices, int64_t outer, int64_t d,
                        int64_t inner) {
  CUREC_GRID_LOOP(t, outer * inner) {
    const float* col = x + t / inner * d * inner + t % inner;
    const int64_t j = strided_argmax(col, d, inner);
    indices[t] = j;
    values[t] = col[j * inner];
  }
}

__global__ void max_bwd(const float* g, const int64_t* indices, float* dx, int64_t outer, int64_t d,
                        int64_t inner) {
  CUREC_GRID_LOOP(t, outer * inner) dx[(t / inner * d + indices[t]) * inner + t % inner] = g[t];
}

}  // namespace

void max_forward(const float* x, float* values, int64_t* indices, int64_t outer, int64_t d, int64_t inner,
                 int device) {
  const int64_t n = outer * inner;
  if (!n) return;
  DeviceGuard guard(device);
  max_fwd<<<grid_for(n), 256, 0, current_stream(device)>>>(x, values, indices, outer, d, inner);
  CUREC_KERNEL_CHECK();
}

void max_backward(const float* g, const int64_t* indices, float* dx, int64_t outer, int64_t d, int64_t inner,
                  int device) {
  const int64_t n = outer * inner;
  if (!n) return;
  DeviceGuard guard(device);
  max_bwd<<<grid_for(n), 256, 0, current_stream(device)>>>(g, indices, dx, outer, d, inner);
  CUREC_KERNEL_CHECK();
}

}  // namespace curec::cuda
