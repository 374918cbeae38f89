#pragma once
// A pre-norm transformer block (Xiong et al. 2020; GPT-2): self-attention and a point-wise
// feed-forward network, each read through a LayerNorm and added back by a residual:
//   x = x + Drop(MHA(LN₁(x)))
//   x = x + Drop(W₂ Drop(act(W₁ LN₂(x)) + b₁) + b₂)
// SASRec's block (Kang & McAuley 2018, after the authors' code) is the `sasrec` variant: the
// keys and values read the un-normalised input, each residual adds the normalised input, and
// the attention has no output projection nor dropout on its output:
//   q = LN₁(x);  x = q + MHA(Q = q, K = V = x)
//   f = LN₂(x);  x = f + Drop(W₂ Drop(ReLU(W₁ f) + b₁) + b₂)
//   nn::TransformerBlock block(64, {.heads = 4, .dropout = 0.1f, .activation = nn::Activation::gelu});
//   x = block(x, {.causal = true, .key_padding_mask = pad});
#include <memory>

#include "core/generator.h"
#include "nn/activation.h"
#include "nn/dropout.h"
#include "nn/layer_norm.h"
#include "nn/linear.h"
#include "nn/module.h"
#include "nn/multi_head_attention.h"

namespace curec::nn {

struct TransformerBlockOptions {
  int64_t heads = 1;
  int64_t ff_dim = 0;          // the feed-forward's hidden width; 0: 4 × dim (SASRec: dim)
  float dropout = 0.1f;        // attention probabilities, the feed-forward's hidden layer, each branch's output
  Activation activation = Activation::relu;  // relu or gelu
  float eps = 1e-5f;           // of both LayerNorms (SASRec: 1e-8)
  bool fused_attention = true; // ops/attention.h; false: the composed path
  bool sasrec = false;         // SASRec's variant (above)
};

class TransformerBlock : public Module {
 public:
  // Dropout draws from `dropout_gen` (gen when null); the weights' init from gen.
  TransformerBlock(int64_t dim, TransformerBlockOptions options = {}, Generator& gen = default_generator(),
                   Generator* dropout_gen = nullptr);
  // x f32 [B, L, dim] -> f32 [B, L, dim].
  Tensor forward(const Tensor& x, const AttentionMasks& masks = {});
  Tensor operator()(const Tensor& x, const AttentionMasks& masks = {}) { return forward(x, masks); }

  const TransformerBlockOptions& options() const { return options_; }

  LayerNorm attn_norm, ff_norm;
  MultiHeadAttention attn;
  Linear ff1, ff2;

 private:
  static Tensor per_position(Linear& layer, const Tensor& x);
  Tensor feed_forward(const Tensor& f);  // [B, L, dim] -> [B, L, dim], dropout on the hidden layer and the output
  TransformerBlockOptions options_;
  std::shared_ptr<Layer> act_;
  Dropout drop_;
};

}  // namespace curec::nn
