#include "ops/attention.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/autograd.h"
#include "core/dispatch.h"
#include "core/parallel.h"
#include "ops/blas.h"
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

// The CPU path works on blocks of up to kQueryBlock queries of one slice (b, h) at a time, so
// its scratch is kQueryBlock x Lk floats a thread whatever L is, and its products go through the
// BLAS (ops/blas.h: the same bits for any thread count, as the blocks depend on the shape alone).
constexpr int64_t kQueryBlock = 128;

struct Block {
  int64_t bh, b, h, i0, rows;  // slice, its batch row and head, first query, number of queries
};

// Probabilities of a block's queries into pr [rows, Lk] (0 where hidden, and for a query that
// sees no key), from the scaled scores Q Kᵀ; lse[i] gets each query's log-sum-exp (-inf: sees
// no key). With `given_lse` the row maxima and sums are not recomputed: the backward's case.
void probabilities(const Problem& p, const Block& blk, float* pr, float* lse, bool given_lse) {
  const Dims& s = p.s;
  const int64_t D = s.d, Lk = s.lk;
  cpu_gemm(false, true, blk.rows, Lk, D, p.q + (blk.bh * s.lq + blk.i0) * D, D, p.k + blk.bh * Lk * D, D, 0.0f, pr,
           Lk);
  for (int64_t r = 0; r < blk.rows; ++r) {
    const int64_t i = blk.i0 + r;
    float* row = pr + r * Lk;
    for (int64_t j = 0; j < Lk; ++j)
      row[j] = attention_math::hidden(p.m, s, blk.b, i, j) ? -INFINITY : row[j] * p.scale;
    float l = lse[r];
    if (!given_lse) {
      float mx = -INFINITY;
      for (int64_t j = 0; j < Lk; ++j) mx = std::max(mx, row[j]);
      float sum = 0.0f;
      if (mx != -INFINITY)
        for (int64_t j = 0; j < Lk; ++j) sum += std::exp(row[j] - mx);
      l = lse[r] = mx == -INFINITY ? -INFINITY : mx + std::log(sum);
    }
    for (int64_t j = 0; j < Lk; ++j) row[j] = l == -INFINITY ? 0.0f : std::exp(row[j] - l);
  }
}

// Runs f(block) for every block of queries of every slice, split over the CPU threads by slice.
template <class F>
void for_each_block(const Dims& s, F&& f) {
  parallel_for(0, s.batch * s.heads, 1, [&](int64_t first, int64_t last) {
    for (int64_t bh = first; bh < last; ++bh)
      for (int64_t i0 = 0; i0 < s.lq; i0 += kQueryBlock)
        f(Block{bh, bh / s.heads, bh % s.heads, i0, std::min(kQueryBlock, s.lq - i0)});
  });
}

// The dropout's keep scales of a block (0 or 1 / (1 - p)) where pr is nonzero, and 0 where it is
// zero (a hidden key, through which nothing flows): the random draws only where they count.
void keep_scales(const Problem& p, const Block& blk, const float* pr, float* keep) {
  for (int64_t r = 0; r < blk.rows; ++r)
    for (int64_t j = 0; j < p.s.lk; ++j) {
      const int64_t e = r * p.s.lk + j;
      keep[e] = pr[e] == 0.0f ? 0.0f : attention_math::keep_scale(p.dr, p.s, blk.b, blk.h, blk.i0 + r, j);
    }
}

void forward_cpu(const Problem& p, float* out, float* lse) {
  const Dims& s = p.s;
  if (s.lk == 0) {  // no key: every query sees none
    std::fill(out, out + s.batch * s.heads * s.lq * s.d, 0.0f);
    std::fill(lse, lse + s.batch * s.heads * s.lq, -INFINITY);
    return;
  }
  for_each_block(s, [&](const Block& blk) {
    thread_local std::vector<float> z, keep;
    const size_t n = static_cast<size_t>(blk.rows * s.lk);
    z.resize(n);
    probabilities(p, blk, z.data(), lse + blk.bh * s.lq + blk.i0, false);
    if (p.dr.p != 0.0f) {
      keep.resize(n);
      keep_scales(p, blk, z.data(), keep.data());
      for (size_t e = 0; e < n; ++e) z[e] *= keep[e];
    }
    cpu_gemm(false, false, blk.rows, s.d, s.lk, z.data(), s.lk, p.v + blk.bh * s.lk * s.d, s.d, 0.0f,
             out + (blk.bh * s.lq + blk.i0) * s.d, s.d);
  });
}

// The textbook backward, block by block: with P the probabilities, Z = P ∘ keep, dZ = dO vᵀ,
// dP = dZ ∘ keep and dS = P ∘ (dP − rowsum(P ∘ dP)): dv = Zᵀ dO, dq = dS k / √D, dk = dSᵀ q / √D
// (dk and dv summed over a slice's blocks in order).
void backward_cpu(const Problem& p, const float* lse, const float* dout, float* dq, float* dk, float* dv) {
  const Dims& s = p.s;
  const int64_t D = s.d, Lk = s.lk;
  if (s.lq == 0 || Lk == 0) {  // no query or no key: nothing flows
    std::fill(dq, dq + s.batch * s.heads * s.lq * D, 0.0f);
    std::fill(dk, dk + s.batch * s.heads * Lk * D, 0.0f);
    std::fill(dv, dv + s.batch * s.heads * Lk * D, 0.0f);
    return;
  }
  for_each_block(s, [&](const Block& blk) {
    thread_local std::vector<float> pr, z, dp, keep;
    const size_t n = static_cast<size_t>(blk.rows * Lk);
    const bool drop = p.dr.p != 0.0f;
    pr.resize(n), z.resize(n), dp.resize(n), keep.resize(drop ? n : 0);
    std::vector<float> l(lse + blk.bh * s.lq + blk.i0, lse + blk.bh * s.lq + blk.i0 + blk.rows);
    probabilities(p, blk, pr.data(), l.data(), true);
    if (drop) keep_scales(p, blk, pr.data(), keep.data());
    for (size_t e = 0; e < n; ++e) z[e] = drop ? pr[e] * keep[e] : pr[e];
    const float* dob = dout + (blk.bh * s.lq + blk.i0) * D;
    const float *qb = p.q + (blk.bh * s.lq + blk.i0) * D, *ks = p.k + blk.bh * Lk * D, *vs = p.v + blk.bh * Lk * D;
    const float beta = blk.i0 == 0 ? 0.0f : 1.0f;  // dk, dv: the first block sets, the rest add
    cpu_gemm(true, false, Lk, D, blk.rows, z.data(), Lk, dob, D, beta, dv + blk.bh * Lk * D, D);
    cpu_gemm(false, true, blk.rows, Lk, D, dob, D, vs, D, 0.0f, dp.data(), Lk);  // dZ
    if (drop)
      for (size_t e = 0; e < n; ++e) dp[e] *= keep[e];  // dP
    for (int64_t r = 0; r < blk.rows; ++r) {
      float* pr_r = pr.data() + r * Lk;
      float* dp_r = dp.data() + r * Lk;
      float delta = 0.0f;
      for (int64_t j = 0; j < Lk; ++j) delta += pr_r[j] * dp_r[j];
      for (int64_t j = 0; j < Lk; ++j) dp_r[j] = pr_r[j] * (dp_r[j] - delta) * p.scale;  // dS
    }
    cpu_gemm(false, false, blk.rows, D, Lk, dp.data(), Lk, ks, D, 0.0f, dq + (blk.bh * s.lq + blk.i0) * D, D);
    cpu_gemm(true, false, Lk, D, blk.rows, dp.data(), Lk, qb, D, beta, dk + blk.bh * Lk * D, D);
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
