#include "core/cuda_context.h"
#include "ops/concat.h"

namespace curec::cuda {
namespace {

// Consecutive threads take consecutive elements of a row, so reads and writes coalesce.
__global__ void copy_block_kernel(const float* src, int64_t src_stride, float* dst, int64_t dst_stride,
                                  int64_t outer, int64_t len) {
  CUREC_GRID_LOOP(k, outer * len) {
    int64_t o = k / len, i = k - o * len;
    dst[o * dst_stride + i] = src[o * src_stride + i];
  }
}

}  // namespace

void copy_block(const float* src, int64_t src_stride, float* dst, int64_t dst_stride, int64_t outer, int64_t len,
                int device) {
  int64_t n = outer * len;
  if (n == 0) return;
  DeviceGuard guard(device);
  copy_block_kernel<<<grid_for(n), 256, 0, current_stream(device)>>>(src, src_stride, dst, dst_stride, outer, len);
  CUREC_KERNEL_CHECK();
}

}  // namespace curec::cuda
