#pragma once
// The one kernel the gradient exchange needs of its own.
#include <cstdint>

#include "core/device.h"

namespace curec::dist {

// dst[i] = w * src[i] for i < n, on `device` (the device's current stream for CUDA); w == 1 copies.
void scale_copy(float* dst, const float* src, int64_t n, float w, Device device);

#if CUREC_WITH_CUDA
namespace cuda {
void scale_copy(float* dst, const float* src, int64_t n, float w, int device);
}
#endif

}  // namespace curec::dist
