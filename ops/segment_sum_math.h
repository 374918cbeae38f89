#pragma once
// The order in which the CUDA backend sums runs of equal ids (a deterministic segmented
// reduction), as plain functions that the kernels (ops/segment_sum.cu) and the CPU tests share.
//
// The ids are sorted stably with their positions, so a run of equal ids is a range of sorted
// slots [head, end) in position order. A run is summed as a tree of fixed shape: pieces of
// kPiece consecutive slots, counted from the run's head, are summed in slot order; then pieces
// of kPiece consecutive piece sums; and so on. A run of at most kPiece ids is therefore summed
// exactly in position order, as the CPU sums it; a longer one (10^5 clicks on a popular item)
// takes a few levels of at most kPiece additions per thread instead of one thread walking the
// whole run. The shape depends on the ids alone, so every run gives the same bits.
#include <cstdint>

#include "core/philox.h"  // CUREC_HD

namespace curec::segment_sum {

constexpr int64_t kPiece = 256;

// Levels that sum any run among n slots: the least L >= 1 with kPiece^L >= n. Level l (0-based)
// has stride kPiece^l.
CUREC_HD int levels(int64_t n) {
  int l = 1;
  for (int64_t span = kPiece; span < n; span *= kPiece) ++l;
  return l;
}

// The first slot of the run holding slot s (keys sorted ascending): a binary search.
CUREC_HD int64_t run_head(const int64_t* keys, int64_t s) {
  const int64_t key = keys[s];
  int64_t lo = 0, hi = s;  // the head lies in [lo, hi]
  while (lo < hi) {
    const int64_t mid = lo + (hi - lo) / 2;
    if (keys[mid] < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

// Slot s, column c of the level with `stride` (1, kPiece, kPiece^2, ...). A slot that starts a
// piece of this level (its distance from the run's head is a multiple of stride * kPiece) sums
// the up to kPiece values of the level below that lie in its piece and in its run, in slot
// order, and stores the sum in sums[s * width + c]. The first level's values are the gradient
// rows, grad[pos[m] * width + c]; a higher level's are the sums stored by the level below at
// slots m = s, s + stride, s + 2 * stride, ... Slots of bad ids (key >= rows) are left alone.
// No slot of a level reads what another slot of that level writes: all (s, c) may run at once.
// After the last level, sums[head * width + c] holds the sum of the whole run.
CUREC_HD void sum_level(const int64_t* keys, const int64_t* heads, const int64_t* pos, const float* grad, float* sums,
                        int64_t n, int64_t width, int64_t rows, int64_t stride, int64_t s, int64_t c) {
  const int64_t key = keys[s];
  if (key >= rows) return;
  const int64_t span = stride * kPiece;
  if ((s - heads[s]) % span != 0) return;
  const int64_t end = n - s > span ? s + span : n;  // the piece, clipped to the slots
  if (stride == 1) {
    float acc = grad[pos[s] * width + c];
    for (int64_t m = s + 1; m < end && keys[m] == key; ++m) acc += grad[pos[m] * width + c];
    sums[s * width + c] = acc;
    return;
  }
  // The run ends inside the level below's piece: that piece's sum is already this one's.
  if (s + stride >= end || keys[s + stride] != key) return;
  float acc = sums[s * width + c];
  for (int64_t m = s + stride; m < end && keys[m] == key; m += stride) acc += sums[m * width + c];
  sums[s * width + c] = acc;
}

// Whether sorted slot j starts a run of a valid id (one below rows).
CUREC_HD bool starts_run(const int64_t* keys, int64_t j, int64_t rows) {
  const int64_t id = keys[j];
  return id < rows && (j == 0 || keys[j - 1] != id);
}

}  // namespace curec::segment_sum
