#pragma once
// Scaled-dot-product attention, fused: out = dropout(softmax(q kᵀ / √D + mask)) v for q [B, H, Lq, D],
// k and v [B, H, Lk, D]. The CUDA kernel tiles queries and keys with an online softmax (a running
// max and sum per query, as FlashAttention), so no Lq × Lk matrix reaches global memory; the
// forward keeps only the output and each query's log-sum-exp, and the backward recomputes the
// probabilities tile by tile. The CPU reference is plain loops, threaded over B·H. A query that
// sees no key (every key masked) gets zeros, and zero gradients, never NaN.
//
// Attention dropout drops probabilities, not inputs: entry (b, h, i, j) is kept with
// probability 1 − p and scaled by 1 / (1 − p), its draw a pure function of the generator's seed
// and the entry's place in the whole batch (see attention_math::keep_scale). Inside a
// DropoutRows scope b counts from the scope's first row, so the ranks of a data-parallel run
// draw what one rank draws for the whole batch; the CPU and CUDA draw the same mask.
//
//   Tensor o = attention(q, k, v, {.causal = true, .key_padding_mask = pad, .dropout = 0.2f, .training = true});
#include <cmath>
#include <cstdint>

#include "core/generator.h"
#include "core/philox.h"
#include "core/tensor.h"

namespace curec {

struct AttentionOptions {
  bool causal = false;      // query i sees keys j <= i only
  Tensor key_padding_mask = Tensor();  // u8 [B, Lk], nonzero = a padded key that no query sees; or undefined
  float dropout = 0.0f;     // probability of dropping an attention probability while training, in [0, 1)
  bool training = false;    // dropout applies only while training
  Generator* generator = nullptr;  // the dropout's generator; the thread's default_generator() when null
};

Tensor attention(const Tensor& q, const Tensor& k, const Tensor& v, const AttentionOptions& options = {});

// The additive mask the options describe, for a composed path softmax(q kᵀ / √D + mask) v:
// f32 [B, 1, Lq, Lk] with a key padding mask, else [Lq, Lk]; 0 where a query sees a key, -inf
// where it does not. Undefined when the options mask nothing.
Tensor attention_mask(const AttentionOptions& options, int64_t batch, int64_t lq, int64_t lk, Device device);

// The options' attention dropout on probabilities [B, H, Lq, Lk], for a composed path: the mask
// the fused op draws at the same generator position, drawn the same way (it advances the
// generator as the fused op does). The input itself when not training or p = 0.
Tensor attention_dropout(const Tensor& probs, const AttentionOptions& options);

namespace attention_math {

struct Dims {
  int64_t batch, heads, lq, lk, d;
};

// What hides key j from query i of batch row b.
struct Masks {
  bool causal;
  const uint8_t* key_padding;  // [B, Lk] or null
};
CUREC_HD bool hidden(const Masks& m, const Dims& s, int64_t b, int64_t i, int64_t j) {
  return (m.causal && j > i) || (m.key_padding && m.key_padding[b * s.lk + j] != 0);
}

// The dropout of one call: p == 0 draws nothing. Row (b, h, i) of the batch's probabilities
// takes ceil(Lk / 4) Philox counters from `offset`, rows numbered over the whole batch (b from
// first_batch); entry j is word j % 4 of counter row · ceil(Lk / 4) + j / 4, as ops/dropout.
struct Dropout {
  float p = 0.0f, scale = 1.0f;
  uint64_t seed = 0, offset = 0;
  int64_t first_batch = 0;
};
CUREC_HD uint64_t counters_per_row(int64_t lk) { return philox::uniform_counters(static_cast<uint64_t>(lk)); }
// The factor probability (b, h, i, j) is multiplied by: 1 / (1 − p) kept, 0 dropped, 1 without dropout.
CUREC_HD float keep_scale(const Dropout& dr, const Dims& s, int64_t b, int64_t h, int64_t i, int64_t j) {
  if (dr.p == 0.0f) return 1.0f;
  const auto row = static_cast<uint64_t>(((dr.first_batch + b) * s.heads + h) * s.lq + i);
  const uint64_t c = dr.offset + row * counters_per_row(s.lk) + static_cast<uint64_t>(j) / 4;
  const float u = philox::to_unit(philox::word(philox::bits(dr.seed, c), static_cast<uint64_t>(j) % 4));
  return u >= dr.p ? dr.scale : 0.0f;
}

}  // namespace attention_math

namespace cuda {
// out [B, H, Lq, D]; lse [B, H, Lq]: each query's log-sum-exp of its scaled scores, -inf when it
// sees no key.
void attention_forward(const float* q, const float* k, const float* v, const attention_math::Dims& s,
                       const attention_math::Masks& m, const attention_math::Dropout& dr, float* out, float* lse,
                       int device);
// dq, dk, dv from the forward's out and lse and the output gradient dout; delta is scratch of
// B·H·Lq floats.
void attention_backward(const float* q, const float* k, const float* v, const float* out, const float* lse,
                        const float* dout, const attention_math::Dims& s, const attention_math::Masks& m,
                        const attention_math::Dropout& dr, float* delta, float* dq, float* dk, float* dv, int device);
// y = x ∘ keep_scale over probabilities [B, H, Lq, Lk] (the backward is the same call on the gradient).
void attention_dropout_apply(const float* x, float* y, const attention_math::Dims& s, const attention_math::Dropout& dr,
                             int device);
}  // namespace cuda

}  // namespace curec
