#include "core/cuda_context.h"
#include "ops/permute.h"

namespace curec::cuda {
namespace {

// One thread per output element, writes coalesced; reads gather by the permuted strides.
__global__ void permute_kernel(const float* __restrict__ x, float* __restrict__ y, int64_t n, PermuteIndex p) {
  CUREC_GRID_LOOP(i, n) y[i] = x[permute_offset(p, i)];
}

}  // namespace

void permute(const float* x, float* y, int64_t n, const PermuteIndex& p, int device) {
  if (!n) return;
  DeviceGuard guard(device);
  permute_kernel<<<grid_for(n), 256, 0, current_stream(device)>>>(x, y, n, p);
  CUREC_KERNEL_CHECK();
}

}  // namespace curec::cuda
