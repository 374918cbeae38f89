#pragma once
// Learned positional embeddings (BERT, SASRec): a table of one vector per position, added to a
// sequence of vectors: y[b, t] = x[b, t] + weight[t] for t < L. Init N(0, 1) as nn::Embedding;
// re-initialise `weight` with nn/init.h to override.
//   nn::PositionalEmbedding pos(maxlen, d);    x = pos(items(seqs));
#include "core/generator.h"
#include "nn/module.h"

namespace curec::nn {

class PositionalEmbedding : public Layer {
 public:
  PositionalEmbedding(int64_t max_length, int64_t dim, Generator& gen = default_generator());
  // x f32 [B, L, dim] with L <= max_length -> f32 [B, L, dim].
  Tensor forward(const Tensor& x) override;

  int64_t max_length() const { return weight.size(0); }
  int64_t dim() const { return weight.size(1); }

  Tensor weight;  // [max_length, dim]: row t is position t's vector
};

}  // namespace curec::nn
