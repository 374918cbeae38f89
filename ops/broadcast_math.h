#pragma once
// NumPy broadcasting of two operands onto an output of rank up to 4, as both backends read it:
// the output's sizes padded on the left with 1s to 4 dims, and each operand's strides in those
// dims, 0 where the operand is stretched (its size is 1, or it has no such dim).
#include <cstdint>

#include "core/philox.h"  // CUREC_HD

namespace curec::ew {

inline constexpr int kMaxBroadcastRank = 4;

struct NdIndex {
  int64_t size[kMaxBroadcastRank];
  int64_t stride_a[kMaxBroadcastRank];
  int64_t stride_b[kMaxBroadcastRank];
};

// The offsets into a and b of the output's elements [row * size[3], (row + 1) * size[3]) start
// at *ia and *ib, and step by stride_a[3] and stride_b[3] along the row.
CUREC_HD void nd_row_offsets(const NdIndex& x, int64_t row, int64_t* ia, int64_t* ib) {
  int64_t a = 0, b = 0;
  for (int d = kMaxBroadcastRank - 2; d >= 0; --d) {
    const int64_t c = row % x.size[d];
    row /= x.size[d];
    a += c * x.stride_a[d];
    b += c * x.stride_b[d];
  }
  *ia = a;
  *ib = b;
}

// The offsets into a and b of the output's element i.
CUREC_HD void nd_offsets(const NdIndex& x, int64_t i, int64_t* ia, int64_t* ib) {
  const int64_t cols = x.size[kMaxBroadcastRank - 1], c = i % cols;
  nd_row_offsets(x, i / cols, ia, ib);
  *ia += c * x.stride_a[kMaxBroadcastRank - 1];
  *ib += c * x.stride_b[kMaxBroadcastRank - 1];
}

}  // namespace curec::ew
