#pragma once
// Max pooling's window arithmetic, shared by the CPU path and the CUDA kernels (ops/max_pool.cu)
// so both pick the same element: the first maximum of each window, a NaN beating every number.
#include <cstdint>

#include "core/philox.h"  // CUREC_HD

namespace curec::max_pool_math {

// Index (within the row) of the first maximum of window j, which covers
// [j * stride, j * stride + kernel); the first NaN wins.
CUREC_HD int64_t window_argmax(const float* row, int64_t j, int64_t kernel, int64_t stride) {
  int64_t best = j * stride;
  for (int64_t t = best + 1; t < j * stride + kernel; ++t) {
    const float v = row[t], b = row[best];
    if (v > b || (v != v && b == b)) best = t;
  }
  return best;
}

// The windows that contain element t of a row are first_window .. last_window (none when
// first > last, e.g. a tail that no window covers).
CUREC_HD int64_t first_window(int64_t t, int64_t kernel, int64_t stride) {
  return t < kernel ? 0 : (t - kernel) / stride + 1;
}
CUREC_HD int64_t last_window(int64_t t, int64_t stride, int64_t out_len) {
  const int64_t j = t / stride;
  return j < out_len - 1 ? j : out_len - 1;
}

// dx[t] of one row: the gradients of the windows whose maximum is t, added in window order
// (as a scatter in window order would add them). argmax holds each window's window_argmax.
template <class Index>
CUREC_HD float gather_grad(const Index* argmax, const float* dy, int64_t t, int64_t kernel, int64_t stride,
                           int64_t out_len) {
  float acc = 0.0f;
  const int64_t last = last_window(t, stride, out_len);
  for (int64_t j = first_window(t, kernel, stride); j <= last; ++j)
    if (static_cast<int64_t>(argmax[j]) == t) acc += dy[j];
  return acc;
}

}  // namespace curec::max_pool_math
