#pragma once
// Inverted dropout: in training each element is kept with probability 1 - p and scaled by
// 1 / (1 - p), so evaluation needs no rescaling. The keep decisions come from Philox at the
// generator's position, so the CPU and CUDA drop exactly the same elements.
#include <cstdint>

#include "core/generator.h"
#include "core/philox.h"
#include "core/tensor.h"

namespace curec {

// Identity (the same tensor) when !training or p == 0; p must lie in [0, 1).
Tensor dropout(const Tensor& x, float p, bool training, Generator& gen = default_generator());

namespace dropout_math {
// Element i keeps when its uniform draw in [0, 1) is at least p: probability 1 - p.
CUREC_HD float apply(float x, float u, float p, float scale) { return u >= p ? x * scale : 0.0f; }
}  // namespace dropout_math

#if CUREC_WITH_CUDA
namespace cuda {
// y[i] = dropout_math::apply(x[i], philox::uniform(seed, offset, i), p, scale). The backward is
// the same call on the output gradient (the mask is recomputed, not stored).
void dropout_apply(const float* x, float* y, int64_t n, float p, float scale, uint64_t seed, uint64_t offset,
                   int device);
}  // namespace cuda
#endif

}  // namespace curec
