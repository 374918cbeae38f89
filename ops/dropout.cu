#include "core/cuda_context.h"
#include "ops/dropout.h"

namespace curec::cuda {
namespace {

// One thread per Philox counter: its four words are the draws of four consecutive elements.
__global__ void dropout_kernel(const float* __restrict__ x, float* __restrict__ y, int64_t n, int64_t counters,
                               float p, float scale, uint64_t seed, uint64_t offset) {
  CUREC_GRID_LOOP(c, counters) {
    const philox::U32x4 b = philox::bits(seed, offset + static_cast<uint64_t>(c));
#pragma unroll
    for (int k = 0; k < 4; ++k) {
      const int64_t i = c * 4 + k;
      if (i < n) y[i] = dropout_math::apply(x[i], philox::to_unit(philox::word(b, k)), p, scale);
    }
  }
}

}  // namespace

void dropout_apply(const float* x, float* y, int64_t n, float p, float scale, uint64_t seed, uint64_t offset,
                   int device) {
  if (n == 0) return;
  DeviceGuard guard(device);
  const int64_t counters = static_cast<int64_t>(philox::uniform_counters(static_cast<uint64_t>(n)));
  dropout_kernel<<<grid_for(counters), 256, 0, current_stream(device)>>>(x, y, n, counters, p, scale, seed, offset);
  CUREC_KERNEL_CHECK();
}

}  // namespace curec::cuda
