#pragma once
// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3"): a counter-based
// generator. The same (seed, counter) gives the same bits on the CPU and in a CUDA kernel, so
// both backends draw identical random numbers for init, dropout, shuffling and sampling.
#include <cstdint>

#if defined(__CUDACC__)
#define CUREC_HD __host__ __device__ __forceinline__
#else
#define CUREC_HD inline
#endif

namespace curec::philox {

struct U32x4 {
  uint32_t v[4];
};

CUREC_HD uint32_t mulhilo(uint32_t a, uint32_t b, uint32_t* hi) {
  uint64_t p = static_cast<uint64_t>(a) * b;
  *hi = static_cast<uint32_t>(p >> 32);
  return static_cast<uint32_t>(p);
}

// Four 32-bit random words for one 64-bit counter under a 64-bit key.
CUREC_HD U32x4 bits(uint64_t seed, uint64_t counter) {
  uint32_t c0 = static_cast<uint32_t>(counter), c1 = static_cast<uint32_t>(counter >> 32), c2 = 0, c3 = 0;
  uint32_t k0 = static_cast<uint32_t>(seed), k1 = static_cast<uint32_t>(seed >> 32);
  for (int r = 0; r < 10; ++r) {
    uint32_t hi0, hi1;
    uint32_t lo0 = mulhilo(0xD2511F53u, c0, &hi0);
    uint32_t lo1 = mulhilo(0xCD9E8D57u, c2, &hi1);
    uint32_t n0 = hi1 ^ c1 ^ k0, n2 = hi0 ^ c3 ^ k1;
    c0 = n0;
    c1 = lo1;
    c2 = n2;
    c3 = lo0;
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  return U32x4{{c0, c1, c2, c3}};
}

// Word k (0..3) of b. Selects, so that a kernel keeps the four words in registers: indexing
// b.v with a runtime value would put the array in local memory (a stack frame per thread).
CUREC_HD uint32_t word(const U32x4& b, uint64_t k) {
  const uint32_t lo = (k & 1) ? b.v[1] : b.v[0];
  const uint32_t hi = (k & 1) ? b.v[3] : b.v[2];
  return (k & 2) ? hi : lo;
}

// Uniform in [0, 1) with 24 random bits (exactly representable in float).
CUREC_HD float to_unit(uint32_t x) { return static_cast<float>(x >> 8) * (1.0f / 16777216.0f); }

// Element i of a uniform draw that starts at `offset`: counter offset + i/4, word i%4.
CUREC_HD float uniform(uint64_t seed, uint64_t offset, uint64_t i) {
  return to_unit(word(bits(seed, offset + i / 4), i % 4));
}

// Uniform integer in [0, n) for element i, from two words (negligible modulo bias for n << 2^64):
// words 0 and 1 for even i, 2 and 3 for odd i.
CUREC_HD uint64_t below(uint64_t seed, uint64_t offset, uint64_t i, uint64_t n) {
  const U32x4 b = bits(seed, offset + i / 2);
  const bool odd = (i & 1) != 0;
  const uint64_t x = (static_cast<uint64_t>(odd ? b.v[2] : b.v[0]) << 32) | (odd ? b.v[3] : b.v[1]);
  return x % n;
}

// Counters consumed by a draw of n elements of each kind (how far the generator advances).
CUREC_HD uint64_t uniform_counters(uint64_t n) { return (n + 3) / 4; }
CUREC_HD uint64_t below_counters(uint64_t n) { return (n + 1) / 2; }

}  // namespace curec::philox
