#include "core/cuda_context.h"
#include "ops/masked_fill.h"

namespace curec::cuda {
namespace {

template <class M>
__global__ void masked_fill_kernel(const float* __restrict__ x, const M* __restrict__ mask, float* __restrict__ out,
                                   int64_t n, ew::NdIndex ix, float value) {
  CUREC_GRID_LOOP(i, n) {
    int64_t ix_x, im;
    ew::nd_offsets(ix, i, &ix_x, &im);
    out[i] = mask[im] != M(0) ? value : x[i];
  }
}

}  // namespace

void masked_fill(const float* x, const void* mask, bool mask_is_u8, float* out, int64_t n, const ew::NdIndex& ix,
                 float value, int device) {
  if (!n) return;
  DeviceGuard guard(device);
  cudaStream_t s = current_stream(device);
  if (mask_is_u8)
    masked_fill_kernel<<<grid_for(n), 256, 0, s>>>(x, static_cast<const uint8_t*>(mask), out, n, ix, value);
  else
    masked_fill_kernel<<<grid_for(n), 256, 0, s>>>(x, static_cast<const float*>(mask), out, n, ix, value);
  CUREC_KERNEL_CHECK();
}

}  // namespace curec::cuda
