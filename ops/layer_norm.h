#pragma once
// Layer normalisation over the last dimension: y = (x − mean) / sqrt(var + eps) · weight + bias,
// with the biased variance of each row (as Ba et al. and PyTorch). Gradients reach x, weight
// and bias; the weight and bias gradients are sums over rows in a fixed order (no atomics).
#include <cmath>
#include <cstdint>

#include "core/philox.h"  // CUREC_HD
#include "core/tensor.h"

namespace curec {

// x f32 [..., cols]; weight and bias f32 [cols], each optional (undefined: scale 1, shift 0).
Tensor layer_norm(const Tensor& x, const Tensor& weight = Tensor(), const Tensor& bias = Tensor(), float eps = 1e-5f);

namespace layer_norm_math {
CUREC_HD float affine(float xhat, const float* w, const float* b, int64_t j) {
  return xhat * (w ? w[j] : 1.0f) + (b ? b[j] : 0.0f);
}
// dx_j from the row's x̂_j, the upstream through the scale dx̂_j = g_j·w_j, the row means
// a = mean(dx̂) and c = mean(dx̂·x̂), and rstd = 1 / sqrt(var + eps).
CUREC_HD float grad(float xhat, float dxhat, float a, float c, float rstd) { return rstd * (dxhat - a - xhat * c); }
}  // namespace layer_norm_math

namespace cuda {
// mean, rstd: rows floats, kept for the backward.
void layer_norm_forward(const float* x, const float* w, const float* b, float eps, float* y, float* mean, float* rstd,
                        int64_t rows, int64_t cols, int device);
// dx (may be null) and g·x̂ per element (for the weight's gradient; may be null).
void layer_norm_backward(const float* x, const float* w, const float* g, const float* mean, const float* rstd,
                         float* dx, float* g_xhat, int64_t rows, int64_t cols, int device);
}  // namespace cuda

}  // namespace curec
