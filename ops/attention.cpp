#include "ops/attention.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/autograd.h"
#include "core/dispatch.h"
#include "core/parallel.h"
#include "ops/dropout.h"

namespace curec {
namespace {

using attention_math::Dims;
using attention_math::Dropout;
using attention_math::Masks;

// The inputs of one call as the loops read them: q [Lq, D], k and v [Lk, D] of slice (b, h).
struct Problem {
  const float *q, *k, *v;
  Dims s;
  Masks m;
  Dropout dr;
  float scale;
};

// Slice (b, h)'s scaled scores of query i into s_row, -inf where hidden; returns their max.
float scores(const Problem& p, int64_t bh, int64_t i, float* s_row) {
  const int64_t b = bh / p.s.heads, D = p.s.d;
  const float* qi = p.q + (bh * p.s.lq + i) * D;
  float mx = -INFINITY;
  for (int64_t j = 0; j < p.s.lk; ++j) {
    float dot = 0.0f;
    if (!attention_math::hidden(p.m, p.s, b, i, j)) {
      const float* kj = p.k + (bh * p.s.lk + j) * D;
      for (int64_t c = 0; c < D; ++c) dot += qi[c] * kj[c];
    }
    s_row[j] = attention_math::hidden(p.m, p.s, b, i, j) ? -INFINITY : dot * p.scale;
    mx = std::max(mx, s_row[j]);
  }
  return mx;
}

void forward_cpu(const Problem& p, float* out, float* lse) {
  const Dims& s = p.s;
  parallel_for(0, s.batch * s.heads, 1, [&](int64_t first, int64_t last) {
    std::vector<float> row(static_cast<size_t>(s.lk));
    for (int64_t bh = first; bh < last; ++bh) {
      const int64_t b = bh / s.heads, h = bh % s.heads;
      for (int64_t i = 0; i < s.lq; ++i) {
        float* oi = out + (bh * s.lq + i) * s.d;
        std::fill(oi, oi + s.d, 0.0f);
        const float mx = scores(p, bh, i, row.data());
        if (mx == -INFINITY) {  // sees no key
          lse[bh * s.lq + i] = -INFINITY;
          continue;
        }
        float sum = 0.0f;
        for (int64_t j = 0; j < s.lk; ++j) sum += std::exp(row[j] - mx);
        for (int64_t j = 0; j < s.lk; ++j) {
          const float z = std::exp(row[j] - mx) / sum * attention_math::keep_scale(p.dr, s, b, h, i, j);
          if (z == 0.0f) continue;
          const float* vj = p.v + (bh * s.lk + j) * s.d;
          for (int64_t c = 0; c < s.d; ++c) oi[c] += z * vj[c];
        }
        lse[bh * s.lq + i] = mx + std::log(sum);
      }
    }
  });
}

// The textbook backward, slice by slice: with P the probabilities, Z = P ∘ keep, dZ = dO vᵀ,
// dP = dZ ∘ keep and dS = P ∘ (dP − rowsum(P ∘ dP)): dv = Zᵀ dO, dq = dS k / √D, dk = dSᵀ q / √D.
void backward_cpu(const Problem& p, const float* lse, const float* dout, float* dq, float* dk, float* dv) {
  const Dims& s = p.s;
  const int64_t D = s.d;
  parallel_for(0, s.batch * s.heads, 1, [&](int64_t first, int64_t last) {
    std::vector<float> row(static_cast<size_t>(s.lk)), dp(static_cast<size_t>(s.lk));
    for (int64_t bh = first; bh < last; ++bh) {
      const int64_t b = bh / s.heads, h = bh % s.heads;
      std::fill(dk + bh * s.lk * D, dk + (bh + 1) * s.lk * D, 0.0f);
      std::fill(dv + bh * s.lk * D, dv + (bh + 1) * s.lk * D, 0.0f);
      for (int64_t i = 0; i < s.lq; ++i) {
        float* dqi = dq + (bh * s.lq + i) * D;
        std::fill(dqi, dqi + D, 0.0f);
        const float l = lse[bh * s.lq + i];
        if (l == -INFINITY) continue;
        scores(p, bh, i, row.data());
        const float* doi = dout + (bh * s.lq + i) * D;
        const float* qi = p.q + (bh * s.lq + i) * D;
        float delta = 0.0f;
        for (int64_t j = 0; j < s.lk; ++j) {
          const float pr = std::exp(row[j] - l);
          row[j] = pr;
          dp[j] = 0.0f;
          if (pr == 0.0f) continue;  // a hidden key: nothing flows through it
          const float keep = attention_math::keep_scale(p.dr, s, b, h, i, j);
          float dz = 0.0f;
          const float* vj = p.v + (bh * s.lk + j) * D;
          for (int64_t c = 0; c < D; ++c) dz += doi[c] * vj[c];
          dp[j] = dz * keep;
          delta += pr * dp[j];
          float* dvj = dv + (bh * s.lk + j) * D;
          for (int64_t c = 0; c < D; ++c) dvj[c] += pr * keep * doi[c];
        }
        for (int64_t j = 0; j < s.lk; ++j) {
          const float ds = row[j] * (dp[j] - delta) * p.scale;
          if (ds == 0.0f) continue;
          const float* kj = p.k + (bh * s.lk + j) * D;
          float* dkj = dk + (bh * s.lk + j) * D;
          for (int64_t c = 0; c < D; ++c) {
            dqi[c] += ds * kj[c];
            dkj[c] += ds * qi[c];
          }
        }
      }
    }
  });
}

void check_inputs(const Tensor& q, const Tensor& k, const Tensor& v, const AttentionOptions& o) {
  const char* op = "attention";
  check_defined(op, q, "q");
  check_defined(op, k, "k");
  check_defined(op, v, "v");
  check_dtype(op, q, DType::f32, "q");
  check_dtype(op, k, DType::f32, "k");
  check_dtype(op, v, DType::f32, "v");
  check_same_device(op, q, k);
  check_same_device(op, q, v);
  CUREC_CHECK(q.dim() == 4 && k.dim() == 4 && v.dim() == 4, op, ": q ", q.str(), ", k ", k.str(), " and v ", v.str(),
              " must be [B, H, L, D]; split the heads out of the features with reshape and permute");
  CUREC_CHECK(k.shape() == v.shape() && q.size(0) == k.size(0) && q.size(1) == k.size(1) && q.size(3) == k.size(3),
              op, ": q ", q.str(), ", k ", k.str(), " and v ", v.str(),
              " must share B, H and D, and k and v their length Lk");
  CUREC_CHECK(q.size(3) >= 1 && q.size(3) <= 128, op, ": head size D = ", q.size(3),
              " must lie in [1, 128]; use more heads of a smaller size");
  if (const Tensor& pad = o.key_padding_mask; pad.defined()) {
    check_dtype(op, pad, DType::u8, "key_padding_mask");
    check_same_device(op, q, pad);
    CUREC_CHECK(pad.dim() == 2 && pad.size(0) == k.size(0) && pad.size(1) == k.size(2), op, ": key_padding_mask ",
                pad.str(), " must be [B, Lk] = [", k.size(0), ", ", k.size(2), "] (nonzero = a padded key)");
  }
}

// The dropout of one call: the generator advances by the whole batch's counters (rows of a
// DropoutRows scope's batch), and this call's rows start at the scope's first.
Dropout draw_dropout(const AttentionOptions& o, const Dims& s) {
  CUREC_CHECK(o.dropout >= 0.0f && o.dropout < 1.0f, "attention: dropout p = ", o.dropout,
              " must lie in [0, 1); p = 1 would drop everything and divide by zero");
  if (!o.training || o.dropout == 0.0f) return {};
  const DropoutRowRange rows = dropout_row_range(s.batch);
  Generator& gen = o.generator ? *o.generator : default_generator();
  const auto total_rows = static_cast<uint64_t>(rows.total * s.heads * s.lq);
  return {o.dropout, 1.0f / (1.0f - o.dropout), gen.seed(),
          gen.advance(total_rows * attention_math::counters_per_row(s.lk)), rows.first};
}

Tensor apply_dropout(const Tensor& x, const Dims& s, const Dropout& dr) {
  Tensor y = Tensor::empty(x.shape(), DType::f32, x.device());
  const float* px = x.data<float>();
  float* py = y.data<float>();
  dispatch(
      "attention_dropout", x.device(),
      [&] {
        parallel_for(0, s.batch * s.heads * s.lq, std::max<int64_t>(1, kCpuGrain / 16 / std::max<int64_t>(1, s.lk)),
                     [&](int64_t first, int64_t last) {
                       for (int64_t r = first; r < last; ++r) {
                         const int64_t b = r / (s.heads * s.lq), h = r / s.lq % s.heads, i = r % s.lq;
                         for (int64_t j = 0; j < s.lk; ++j)
                           py[r * s.lk + j] = px[r * s.lk + j] * attention_math::keep_scale(dr, s, b, h, i, j);
                       }
                     });
      },
      [&](int dev) { cuda::attention_dropout_apply(px, py, s, dr, dev); });
  return y;
}

}  // namespace

Tensor attention_dropout(const Tensor& probs, const AttentionOptions& o) {
  check_defined("attention_dropout", probs, "probs");
  check_dtype("attention_dropout", probs, DType::f32, "probs");
  CUREC_CHECK(probs.dim() == 4, "attention_dropout: probs ", probs.str(), " must be [B, H, Lq, Lk]");
  const Dims s{probs.size(0), probs.size(1), probs.size(2), probs.size(3), 1};
  const Dropout dr = draw_dropout(o, s);
  if (dr.p == 0.0f) return probs;
  Tensor y = apply_dropout(probs, s, dr);
  return record(y, "attention_dropout", {probs},
                [=](const Tensor& g) -> std::vector<Grad> { return {apply_dropout(g, s, dr)}; });
}

Tensor attention(const Tensor& q, const Tensor& k, const Tensor& v, const AttentionOptions& o) {
  check_inputs(q, k, v, o);
  const Dims s{q.size(0), q.size(1), q.size(2), k.size(2), q.size(3)};
  const Tensor pad = o.key_padding_mask;
  const Masks m{o.causal, pad.defined() ? static_cast<const uint8_t*>(pad.raw_data()) : nullptr};
  const Dropout dr = draw_dropout(o, s);
  const Problem p{q.data<float>(), k.data<float>(), v.data<float>(), s, m, dr, 1.0f / std::sqrt(static_cast<float>(s.d))};
  Tensor out = Tensor::empty({s.batch, s.heads, s.lq, s.d}, DType::f32, q.device());
  Tensor lse = Tensor::empty({s.batch, s.heads, s.lq}, DType::f32, q.device());
  dispatch(
      "attention", q.device(), [&] { forward_cpu(p, out.data<float>(), lse.data<float>()); },
      [&](int dev) { cuda::attention_forward(p.q, p.k, p.v, s, m, dr, out.data<float>(), lse.data<float>(), dev); });
  Tensor saved = out.detach();
  return record(out, "attention", {q, k, v}, [=](const Tensor& g) -> std::vector<Grad> {
    Tensor dq = Tensor::empty(q.shape(), DType::f32, q.device());
    Tensor dk = Tensor::empty(k.shape(), DType::f32, k.device());
    Tensor dv = Tensor::empty(v.shape(), DType::f32, v.device());
    dispatch(
        "attention", q.device(),
        [&] { backward_cpu(p, lse.data<float>(), g.data<float>(), dq.data<float>(), dk.data<float>(), dv.data<float>()); },
        [&](int dev) {
          Tensor delta = Tensor::empty({s.batch * s.heads * s.lq}, DType::f32, q.device());
          cuda::attention_backward(p.q, p.k, p.v, saved.data<float>(), lse.data<float>(), g.data<float>(), s, m, dr,
                                   delta.data<float>(), dq.data<float>(), dk.data<float>(), dv.data<float>(), dev);
        });
    (void)pad;  // the mask's storage lives as long as the backward that reads it
    return {dq, dk, dv};
  });
}

Tensor attention_mask(const AttentionOptions& o, int64_t batch, int64_t lq, int64_t lk, Device device) {
  const Tensor& pad = o.key_padding_mask;
  if (!o.causal && !pad.defined()) return Tensor();
  const int64_t nb = pad.defined() ? batch : 1;
  if (pad.defined())
    CUREC_CHECK(pad.dtype() == DType::u8 && pad.dim() == 2 && pad.size(0) == batch && pad.size(1) == lk,
                "attention_mask: key_padding_mask ", pad.str(), " must be u8 [B, Lk] = [", batch, ", ", lk, "]");
  std::vector<uint8_t> padded = pad.defined() ? pad.to_vector<uint8_t>() : std::vector<uint8_t>();
  std::vector<float> mask(static_cast<size_t>(nb * lq * lk));
  const Masks m{o.causal, pad.defined() ? padded.data() : nullptr};
  const Dims s{nb, 1, lq, lk, 1};
  for (int64_t b = 0; b < nb; ++b)
    for (int64_t i = 0; i < lq; ++i)
      for (int64_t j = 0; j < lk; ++j)
        mask[(b * lq + i) * lk + j] = attention_math::hidden(m, s, b, i, j) ? -INFINITY : 0.0f;
  Tensor t = Tensor::from_vector(mask, pad.defined() ? Shape{nb, 1, lq, lk} : Shape{lq, lk});
  return t.to(device);
}

}  // namespace curec
