#include "ops/attention_composed.h"

#include <cmath>

#include "ops/bmm.h"
#include "ops/elementwise.h"
#include "ops/shape.h"
#include "ops/softmax.h"

namespace curec {

Tensor attention_composed(const Tensor& q, const Tensor& k, const Tensor& v, const AttentionOptions& o) {
  const char* op = "attention_composed";
  for (const Tensor* t : {&q, &k, &v}) check_defined(op, *t, t == &q ? "q" : t == &k ? "k" : "v");
  CUREC_CHECK(q.dim() == 4 && k.dim() == 4 && k.shape() == v.shape() && q.size(0) == k.size(0) &&
                  q.size(1) == k.size(1) && q.size(3) == k.size(3),
              op, ": q ", q.str(), ", k ", k.str(), " and v ", v.str(),
              " must be [B, H, Lq, D], [B, H, Lk, D] and [B, H, Lk, D]");
  const int64_t B = q.size(0), H = q.size(1), Lq = q.size(2), Lk = k.size(2), D = q.size(3);
  // Scaling q (Lq·D products) rather than the scores (Lq·Lk) is cheaper for long sequences.
  Tensor qs = reshape(q, {B * H, Lq, D}) * (1.0f / std::sqrt(static_cast<float>(D)));
  Tensor scores = reshape(bmm(qs, reshape(k, {B * H, Lk, D}), false, true), {B, H, Lq, Lk});
  Tensor p = softmax(scores, attention_mask(o, B, Lq, Lk, q.device()));
  p = attention_dropout(p, o);  // the fused op's mask, drawn at the same generator position
  return reshape(bmm(reshape(p, {B * H, Lq, Lk}), reshape(v, {B * H, Lk, D})), {B, H, Lq, D});
}

}  // namespace curec
