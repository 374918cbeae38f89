#pragma once
// Softmax and log-softmax over the last dimension, for any rank: x is viewed as [rows, cols]
// with cols = its last dimension. Stable: each row's max is subtracted before exp. An optional
// additive f32 mask (0 keeps, -inf drops; any finite value biases) broadcasts against x as
// NumPy broadcasts, aligned at the last dimension: [L, L] for [B, H, L, L] logits (a causal
// mask), [B, 1, 1, L] for key padding. The mask is a constant: it gets no gradient.
// A row whose every entry is -inf (fully masked) gives zeros, in the output and in the
// gradient, never NaN.
#include <cmath>
#include <cstdint>

#include "core/philox.h"  // CUREC_HD
#include "core/tensor.h"

namespace curec {

Tensor softmax(const Tensor& x, const Tensor& mask = Tensor());
Tensor log_softmax(const Tensor& x, const Tensor& mask = Tensor());

namespace softmax_math {

inline constexpr int kMaxLeadingDims = 7;
inline constexpr float kNegInf = -__builtin_huge_valf();

// Where row r of x (a flat index over x's leading dimensions) finds its mask row: the mask's
// stride along each leading dimension of x, 0 where the mask broadcasts; and its stride along
// the columns (1, or 0 for a mask whose last dimension is 1).
struct MaskIndex {
  int ndim = 0;
  int64_t size[kMaxLeadingDims] = {};
  int64_t stride[kMaxLeadingDims] = {};
  int64_t col_stride = 1;
  CUREC_HD int64_t row_offset(int64_t r) const {
    int64_t off = 0;
    for (int d = ndim - 1; d >= 0; --d) {
      off += (r % size[d]) * stride[d];
      r /= size[d];
    }
    return off;
  }
};

// Entry j of a row with its mask row (null: no mask) added.
CUREC_HD float masked(const float* x, const float* mask_row, int64_t col_stride, int64_t j) {
  return mask_row ? x[j] + mask_row[j * col_stride] : x[j];
}

// Output entry from a row's max m, its sum s of exp(v - m) and lse = m + log s. A fully masked
// row has m = -inf: zeros.
CUREC_HD float value(float v, float m, float s, float lse, bool log) {
  if (m == kNegInf) return 0.0f;
  return log ? v - lse : expf(v - m) / s;
}

// dx from the output y and the upstream g. For softmax `dot` is Σ g·y over the row; for
// log-softmax it is Σ g, and `live` says the row is not fully masked (whose gradient is zero).
CUREC_HD float grad(float y, float g, float dot, bool log, bool live) {
  if (log) return live ? g - expf(y) * dot : 0.0f;
  return y * (g - dot);
}

}  // namespace softmax_math

// The broadcast of `mask` against x's shape (x: [..., cols]); fails naming `op` when it does not
// broadcast.
softmax_math::MaskIndex softmax_mask_index(const char* op, const Shape& x, const Shape& mask);

namespace cuda {
// y: [rows, cols]; lse (rows floats): each row's log-sum-exp, -inf for a fully masked row.
void softmax_forward(const float* x, const float* mask, const softmax_math::MaskIndex& mi, float* y, float* lse,
                     int64_t rows, int64_t cols, bool log, int device);
void softmax_backward(const float* y, const float* g, const float* lse, float* dx, int64_t rows, int64_t cols,
                      bool log, int device);
}  // namespace cuda

}  // namespace curec
