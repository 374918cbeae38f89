#include "core/cuda_context.h"
#include "ops/dropout.h"

namespace curec::cuda {
namespace {

// One thread per Philox counter: its four words are the draws of four consecutive elements of
// one row.
__global__ void dropout_kernel(const float* __restrict__ x, float* __restrict__ y, int64_t width, int64_t per_row,
                               int64_t counters, int64_t first_row, float p, float scale, uint64_t seed,
                               uint64_t offset) {
  CUREC_GRID_LOOP(c, counters) {
    const int64_t r = c / per_row, q = c % per_row;
    const philox::U32x4 b = philox::bits(seed, offset + static_cast<uint64_t>((first_row + r) * per_row + q));
#pragma unroll
    for (int k = 0; k < 4; ++k) {
      const int64_t j = q * 4 + k;
      if (j < width) y[r * width + j] = dropout_math::apply(x[r * width + j], philox::to_unit(philox::word(b, k)), p, scale);
    }
  }
}

}  // namespace

void dropout_apply(const float* x, float* y, int64_t rows, int64_t width, int64_t first_row, float p, float scale,
                   uint64_t seed, uint64_t offset, int device) {
  if (rows * width == 0) return;
  DeviceGuard guard(device);
  const auto per_row = static_cast<int64_t>(philox::uniform_counters(static_cast<uint64_t>(width)));
  const int64_t counters = rows * per_row;
  dropout_kernel<<<grid_for(counters), 256, 0, current_stream(device)>>>(x, y, width, per_row, counters, first_row, p,
                                                                        scale, seed, offset);
  CUREC_KERNEL_CHECK();
}

}  // namespace curec::cuda
