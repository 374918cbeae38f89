#pragma once
// The draw formula that the CPU loop and the CUDA kernel of NegativeSampler share, so both
// backends return the same negatives for the same (seed, epoch, position).
#include <cstdint>

#include "core/philox.h"

namespace curec::data::negative_math {

// Rejection tries before a draw falls back to picking from the complement directly. With a
// user's positives under half the items, all tries fail with probability below 2^-32.
constexpr int kMaxTries = 32;
constexpr uint64_t kCountersPerDraw = kMaxTries + 1;

// Each epoch owns a 2^40-counter range of the Philox stream (2^41 integer draws).
CUREC_HD uint64_t epoch_offset(uint64_t epoch) { return epoch << 40; }

// Is `item` in the sorted list pos[0, deg)?
CUREC_HD bool contains(const int32_t* pos, int64_t deg, int64_t item) {
  int64_t lo = 0, hi = deg;
  while (lo < hi) {
    int64_t mid = (lo + hi) / 2;
    if (pos[mid] < item) lo = mid + 1;
    else hi = mid;
  }
  return lo < deg && pos[lo] == item;
}

// The r-th smallest item (0-based) that is not in the sorted, distinct list pos[0, deg).
// pos[m] - m counts the non-positives below pos[m] and never decreases with m, so the answer
// is r plus the number of positives m with pos[m] - m <= r.
CUREC_HD int64_t complement_at(const int32_t* pos, int64_t deg, int64_t r) {
  int64_t lo = 0, hi = deg;
  while (lo < hi) {
    int64_t mid = (lo + hi) / 2;
    if (pos[mid] - mid <= r) lo = mid + 1;
    else hi = mid;
  }
  return r + lo;
}

// Negative number `slot` (= pair position * k + j) of an epoch for a user with positives
// pos[0, deg) among num_items items (deg < num_items). Uniform over the complement: rejection
// draws are uniform over it, and so is the fallback that indexes it directly.
CUREC_HD int64_t draw(uint64_t seed, uint64_t epoch, const int32_t* pos, int64_t deg, int64_t num_items,
                      uint64_t slot) {
  uint64_t off = epoch_offset(epoch), base = slot * kCountersPerDraw;
  if (2 * deg <= num_items) {
    for (int t = 0; t < kMaxTries; ++t) {
      auto c = static_cast<int64_t>(philox::below(seed, off, base + t, static_cast<uint64_t>(num_items)));
      if (!contains(pos, deg, c)) return c;
    }
  }
  auto r = static_cast<int64_t>(philox::below(seed, off, base + kMaxTries, static_cast<uint64_t>(num_items - deg)));
  return complement_at(pos, deg, r);
}

}  // namespace curec::data::negative_math
