#pragma once
// The chapter's losses, each one fused op: a kernel computes the per-element loss, ops/reduce.h
// sums it, and the reduced value stays on the device (no host read, so a step needs no sync).
// Operands are f32 of equal shape; gradients flow to both operands.
#include "core/tensor.h"
#include "ops/loss_math.h"

namespace curec {

enum class Reduction { none, mean, sum };

// ½(ŷ − y)² per element (the book's L2Loss).
Tensor squared_error(const Tensor& pred, const Tensor& target, Reduction r = Reduction::mean);
// ½(ŷ − y)² over observed entries only (AutoRec). `mask` is u8 or f32 of the same shape
// (nonzero = observed), or undefined for "observed where target != 0". Unobserved entries give
// exactly 0 loss and 0 gradient; mean divides by the observed count (0 observed gives 0).
Tensor masked_squared_error(const Tensor& pred, const Tensor& target, const Tensor& mask = Tensor(),
                            Reduction r = Reduction::mean);
// Binary cross-entropy with logits, stable for any logit: max(x,0) − x·y + log(1 + exp(−|x|)).
Tensor bce_with_logits(const Tensor& logits, const Tensor& labels, Reduction r = Reduction::mean);
// Bayesian personalised ranking: −ln σ(pos − neg), computed as softplus(neg − pos).
Tensor bpr_loss(const Tensor& pos, const Tensor& neg, Reduction r = Reduction::mean);
// Pairwise hinge: max(0, margin − pos + neg).
Tensor hinge_loss(const Tensor& pos, const Tensor& neg, float margin = 1.0f, Reduction r = Reduction::mean);

namespace cuda {
// loss[i] = observed ? value(a[i], b[i]) : 0; `observed_out` (may be null) gets 1 or 0.
void loss_forward(LossKind kind, const float* a, const float* b, MaskKind mk, const void* mask, float param,
                  float* loss, float* observed_out, int64_t n, int device);
// da, db (either may be null) = observed ? upstream · d value : 0.
void loss_backward(LossKind kind, const float* a, const float* b, MaskKind mk, const void* mask, float param,
                   loss::Upstream up, float* da, float* db, int64_t n, int device);
// out[0] = loss::finish(sum[0], count, scale), on the device.
void loss_finish(const float* sum, const float* count, float scale, float* out, int device);
}  // namespace cuda

}  // namespace curec
