#pragma once
// Multi-head attention (Vaswani et al. 2017): queries, keys and values projected, split into
// `heads` heads of dim / heads features (reshape and permute, no copies but the permute),
// attended per head, the heads concatenated and, optionally, projected again:
//   out = concat_h(softmax(Q_h K_hᵀ / √(dim/h) + mask) V_h) W_o + b_o
// Queries and keys/values may come from different inputs (SASRec reads queries from the
// normalised sequence and keys and values from the sequence itself). Weights are Glorot-uniform
// and biases zero, as PyTorch's nn.MultiheadAttention and TensorFlow's dense layers start them.
//   nn::MultiHeadAttention mha(64, {.heads = 4, .dropout = 0.1f});
//   Tensor y = mha(x, {.causal = true, .key_padding_mask = pad});     // self-attention
#include <memory>

#include "core/generator.h"
#include "nn/linear.h"
#include "nn/module.h"

namespace curec::nn {

struct MultiHeadAttentionOptions {
  int64_t heads = 1;          // must divide dim
  float dropout = 0.0f;       // on the attention probabilities, while training
  bool bias = true;           // of every projection
  bool out_projection = true; // false: the concatenated heads are the output (SASRec)
  bool fused = true;          // the fused op (ops/attention.h); false: the composed path (ops/attention_composed.h)
};

// What hides a key from a query.
struct AttentionMasks {
  bool causal = false;      // query i sees keys j <= i only
  Tensor key_padding_mask;  // u8 [B, Lk], nonzero = a padded key; or undefined
};

class MultiHeadAttention : public Module {
 public:
  // Dropout draws from `dropout_gen` (gen when null); the projections' init from gen.
  MultiHeadAttention(int64_t dim, MultiHeadAttentionOptions options = {}, Generator& gen = default_generator(),
                     Generator* dropout_gen = nullptr);
  // query f32 [B, Lq, dim], key_value f32 [B, Lk, dim] -> f32 [B, Lq, dim].
  Tensor forward(const Tensor& query, const Tensor& key_value, const AttentionMasks& masks = {});
  Tensor operator()(const Tensor& x, const AttentionMasks& masks = {}) { return forward(x, x, masks); }

  int64_t dim() const { return dim_; }
  const MultiHeadAttentionOptions& options() const { return options_; }

  Linear q_proj, k_proj, v_proj;
  std::shared_ptr<Linear> out_proj;  // null without an output projection

 private:
  Tensor project(Linear& proj, const Tensor& x) const;  // [B, L, dim] -> [B, H, L, dim / H]
  int64_t dim_;
  MultiHeadAttentionOptions options_;
  Generator* dropout_gen_;
};

}  // namespace curec::nn
