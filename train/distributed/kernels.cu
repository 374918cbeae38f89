#include "core/cuda_context.h"
#include "train/distributed/kernels.h"

namespace curec::dist::cuda {

namespace {
__global__ void scale_copy_kernel(float* dst, const float* src, int64_t n, float w) {
  CUREC_GRID_LOOP(i, n) dst[i] = __fmul_rn(w, src[i]);  // rounded as the CPU's w * src[i] (no FMA)
}
}  // namespace

void scale_copy(float* dst, const float* src, int64_t n, float w, int device) {
  curec::cuda::DeviceGuard g(device);
  scale_copy_kernel<<<curec::cuda::grid_for(n), 256, 0, curec::cuda::current_stream(device)>>>(dst, src, n, w);
  CUREC_KERNEL_CHECK();
}

}  // namespace curec::dist::cuda
