#include "train/distributed/kernels.h"

#include <cstring>

#include "core/error.h"
#include "core/tensor_kernels.h"

namespace curec::dist {

void scale_copy(float* dst, const float* src, int64_t n, float w, Device device) {
  if (n <= 0) return;
  if (w == 1.0f) {
    copy_bytes(dst, device, src, device, static_cast<size_t>(n) * sizeof(float));
    return;
  }
  if (device.is_cuda()) {
#if CUREC_WITH_CUDA
    cuda::scale_copy(dst, src, n, w, device.index);
    return;
#else
    CUREC_FAIL("scale_copy on ", device.str(), " in a build without CUDA");
#endif
  }
  for (int64_t i = 0; i < n; ++i) dst[i] = w * src[i];
}

}  // namespace curec::dist
