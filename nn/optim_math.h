#pragma once
// The per-element update rules of the optimizers, shared by the CPU loops and the fused CUDA
// kernels so both backends apply one definition. Everything that depends only on the step
// count (Adam's bias corrections) is folded into the hyper-parameters on the host, so a
// kernel needs no device->host round trip.
#include <cmath>
#include <cstdint>

#include "core/philox.h"  // CUREC_HD

namespace curec::nn::optim {

// A gradient as the update reads it: times the clipping scale (one float on the update's
// device), or as it is when there is none. Applied after a row-sparse gradient's duplicates are
// summed, so both backends scale the same number.
CUREC_HD float scaled(float g, const float* scale) { return scale ? g * *scale : g; }

// The global-norm clipping factor (PyTorch's clip_grad_norm_): 1 when the norm is within
// max_norm, else max_norm / (norm + eps).
CUREC_HD float clip_factor(float norm, float max_norm, float eps) {
  const float f = max_norm / (norm + eps);
  return f < 1.0f ? f : 1.0f;
}

struct SgdHyper {
  float lr = 0.01f;
  float momentum = 0.0f;      // 0: plain SGD, no velocity buffer
  float weight_decay = 0.0f;  // L2 term added to the gradient
};

// g += wd * w; v = momentum * v + g; w -= lr * v (PyTorch's SGD without dampening; a zero
// initial velocity makes the first step take v = g, as PyTorch does). `v` is null without momentum.
CUREC_HD void sgd_update(float* w, float* v, float g, const SgdHyper& h) {
  g += h.weight_decay * *w;
  if (v) {
    *v = h.momentum * *v + g;
    g = *v;
  }
  *w -= h.lr * g;
}

struct AdamHyper {
  float beta1 = 0.9f, beta2 = 0.999f, eps = 1e-8f, weight_decay = 0.0f;
  float step_size = 0.0f;     // lr / (1 - beta1^t)
  float inv_sqrt_bc2 = 0.0f;  // 1 / sqrt(1 - beta2^t)
};

// The bias-corrected factors for step t (1-based) of an Adam with learning rate lr.
inline AdamHyper adam_hyper(float lr, float beta1, float beta2, float eps, float weight_decay, int64_t t) {
  AdamHyper h;
  h.beta1 = beta1;
  h.beta2 = beta2;
  h.eps = eps;
  h.weight_decay = weight_decay;
  double bc1 = 1.0 - std::pow(static_cast<double>(beta1), static_cast<double>(t));
  double bc2 = 1.0 - std::pow(static_cast<double>(beta2), static_cast<double>(t));
  h.step_size = static_cast<float>(lr / bc1);
  h.inv_sqrt_bc2 = static_cast<float>(1.0 / std::sqrt(bc2));
  return h;
}

// torch.optim.Adam (and MXNet's adam, the book's optimizer): weight decay as an L2 term in the
// gradient, m and v updated, then w -= lr/bc1 * m / (sqrt(v)/sqrt(bc2) + eps).
CUREC_HD void adam_update(float* w, float* m, float* v, float g, const AdamHyper& h) {
  g += h.weight_decay * *w;
  *m = h.beta1 * *m + (1.0f - h.beta1) * g;
  *v = h.beta2 * *v + (1.0f - h.beta2) * g * g;
  *w -= h.step_size * *m / (sqrtf(*v) * h.inv_sqrt_bc2 + h.eps);
}

}  // namespace curec::nn::optim
