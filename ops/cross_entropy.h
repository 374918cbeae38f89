#pragma once
// Cross-entropy of class logits against integer targets, log-softmax fused in: per row
// lse(x) − x[target], the row's max subtracted first. Rows whose target equals `ignore_index`
// count for nothing: loss 0, gradient 0, and the mean is over the other rows (every row ignored
// gives 0, never NaN). The loss stays on the device as every loss of ops/loss.h.
#include <cmath>
#include <cstdint>

#include "core/philox.h"  // CUREC_HD
#include "core/tensor.h"
#include "ops/loss.h"

namespace curec {

// logits f32 [N, C]; targets i64 or i32 [N], each in [0, C) or equal to ignore_index (a target
// out of range is an error; on CUDA it is raised by the kernel and seen at the next
// synchronisation). Reduction::none gives the [N] per-row losses.
Tensor cross_entropy(const Tensor& logits, const Tensor& targets, int64_t ignore_index = -100,
                     Reduction r = Reduction::mean);

namespace cross_entropy_math {
CUREC_HD int64_t target_at(const void* targets, bool wide, int64_t i) {
  return wide ? static_cast<const int64_t*>(targets)[i] : static_cast<const int32_t*>(targets)[i];
}
// lse − x_t from the row's max m and its sum s of exp(x − m), as log s − (x_t − m): forming
// lse = m + log s first would round away log s's digits when |m| is large.
CUREC_HD float row_loss(float x_target, float m, float s) { return logf(s) - (x_target - m); }
// d loss_i / d x_ij, times the row's upstream factor u.
CUREC_HD float grad(float x, float lse, bool is_target, float u) { return u * (expf(x - lse) - (is_target ? 1.0f : 0.0f)); }
}  // namespace cross_entropy_math

namespace cuda {
// Per row i: loss[i] = lse_i − x[i, t_i] and valid[i] = 1, or 0 and 0 for an ignored row;
// lse[i] kept for the backward.
void cross_entropy_forward(const float* x, const void* targets, bool wide, int64_t ignore_index, float* loss,
                           float* valid, float* lse, int64_t n, int64_t c, int device);
void cross_entropy_backward(const float* x, const void* targets, bool wide, int64_t ignore_index, const float* lse,
                            loss::Upstream up, float* dx, int64_t n, int64_t c, int device);
}  // namespace cuda

}  // namespace curec
