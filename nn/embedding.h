#pragma once
// Embedding table [rows, dim] looked up by integer ids. Default init N(0, 1) as PyTorch's
// nn.Embedding; the book's models re-initialise with nn::normal_(weight, 0, 0.01).
// options.sparse_grad makes backward produce a row-sparse gradient that the optimizers apply
// lazily to the touched rows. The init draws from `gen` (the thread's default generator unless given).
//   nn::Embedding users(n_users, k);           nn::Embedding items(n_items, k, {.sparse_grad = true}, gen);
#include "core/generator.h"
#include "nn/module.h"
#include "ops/embedding.h"

namespace curec::nn {

class Embedding : public Layer {
 public:
  Embedding(int64_t rows, int64_t dim, EmbeddingOptions options = {}, Generator& gen = default_generator());
  // indices: i32/i64 of any shape -> f32 indices.shape + [dim].
  Tensor forward(const Tensor& indices) override;

  int64_t rows() const { return weight.size(0); }
  int64_t dim() const { return weight.size(1); }
  const EmbeddingOptions& options() const { return options_; }

  Tensor weight;  // [rows, dim]

 private:
  EmbeddingOptions options_;
};

}  // namespace curec::nn
