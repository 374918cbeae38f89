#pragma once
// Element formulas shared by the CPU loops and the CUDA kernels of core/random.
#include <cmath>

#include "core/philox.h"

namespace curec::random_math {

// Element i of a normal draw at `offset` uses counter offset + i (words 0 and 1).
CUREC_HD float normal(uint64_t seed, uint64_t offset, uint64_t i, float mean, float stddev) {
  philox::U32x4 b = philox::bits(seed, offset + i);
  float u1 = 1.0f - philox::to_unit(b.v[0]);  // (0, 1]
  float u2 = philox::to_unit(b.v[1]);
  return mean + stddev * sqrtf(-2.0f * logf(u1)) * cosf(6.283185307179586f * u2);
}

// Sort key of element i for randperm: 64 random bits, ties broken by index.
CUREC_HD uint64_t perm_key(uint64_t seed, uint64_t offset, uint64_t i) {
  philox::U32x4 b = philox::bits(seed, offset + i);
  return (static_cast<uint64_t>(b.v[0]) << 32) | b.v[1];
}

}  // namespace curec::random_math
