#pragma once
// The per-element loss formulas and their derivatives, shared by the CPU loops and the CUDA
// kernels. Every loss here is a function of two same-shaped operands a, b (prediction and
// target, logits and labels, or positive and negative scores) and a constant `param` (the
// hinge margin); `observed` masks entries out for the AutoRec loss.
#include <cmath>
#include <cstdint>

#include "core/philox.h"  // CUREC_HD

namespace curec {

enum class LossKind : int { squared, bce_logits, bpr, hinge };
// Which entries count: all, a u8 or f32 mask (nonzero = observed), or where the target is nonzero.
enum class MaskKind : int { all, u8, f32, target_nonzero };

namespace loss {

// log(1 + exp(z)) without overflow for large |z| and without cancellation for very negative z.
CUREC_HD float softplus(float z) { return (z > 0.0f ? z : 0.0f) + log1pf(expf(-fabsf(z))); }

CUREC_HD float sigmoid(float z) {
  if (z >= 0.0f) return 1.0f / (1.0f + expf(-z));
  float e = expf(z);
  return e / (1.0f + e);
}

CUREC_HD float value(LossKind kind, float a, float b, float param) {
  switch (kind) {
    case LossKind::squared: { float d = a - b; return 0.5f * d * d; }
    // max(x,0) − x·y + log(1 + exp(−|x|)) = softplus(x) − x·y.
    case LossKind::bce_logits: return softplus(a) - a * b;
    // −ln σ(pos − neg) = softplus(neg − pos).
    case LossKind::bpr: return softplus(b - a);
    case LossKind::hinge: { float m = param - a + b; return m > 0.0f ? m : 0.0f; }
  }
  return 0.0f;
}

// d value / da and d value / db, times the upstream factor g.
CUREC_HD float grad_a(LossKind kind, float a, float b, float param, float g) {
  switch (kind) {
    case LossKind::squared: return g * (a - b);
    case LossKind::bce_logits: return g * (sigmoid(a) - b);
    case LossKind::bpr: return -g * sigmoid(b - a);
    case LossKind::hinge: return param - a + b > 0.0f ? -g : 0.0f;
  }
  return 0.0f;
}
CUREC_HD float grad_b(LossKind kind, float a, float b, float param, float g) {
  switch (kind) {
    case LossKind::squared: return g * (b - a);
    case LossKind::bce_logits: return -g * a;
    case LossKind::bpr: return g * sigmoid(b - a);
    case LossKind::hinge: return param - a + b > 0.0f ? g : 0.0f;
  }
  return 0.0f;
}

CUREC_HD bool observed(MaskKind kind, const void* mask, float target, int64_t i) {
  switch (kind) {
    case MaskKind::all: return true;
    case MaskKind::u8: return static_cast<const uint8_t*>(mask)[i] != 0;
    case MaskKind::f32: return static_cast<const float*>(mask)[i] != 0.0f;
    case MaskKind::target_nonzero: return target != 0.0f;
  }
  return true;
}

// A reduced loss: sum · scale, divided by the observed count when there is one (at least 1,
// so a batch with nothing observed gives 0 rather than NaN).
CUREC_HD float finish(float sum, const float* count, float scale) {
  float r = sum * scale;
  if (count) r /= (*count > 1.0f ? *count : 1.0f);
  return r;
}

// The gradient reaching element i from the loss output: per element (stride 1) for
// Reduction::none, one scalar (stride 0) for sum and mean, scaled as `finish` scaled the sum.
struct Upstream {
  const float* g;
  int64_t stride;
  float scale;
  const float* count;  // null unless a masked mean
};
CUREC_HD float upstream_at(const Upstream& u, int64_t i) { return finish(u.g[i * u.stride], u.count, u.scale); }

}  // namespace loss
}  // namespace curec
