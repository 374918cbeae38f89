#include "nn/positional_embedding.h"

#include "nn/init.h"
#include "ops/elementwise.h"
#include "ops/embedding.h"

namespace curec::nn {

PositionalEmbedding::PositionalEmbedding(int64_t max_length, int64_t dim, Generator& gen) {
  CUREC_CHECK(max_length > 0 && dim > 0, "PositionalEmbedding: max_length and dim must be positive, got ", max_length,
              " and ", dim);
  weight = Tensor::empty({max_length, dim});
  normal_(weight, 0.0f, 1.0f, gen);
  register_parameter("weight", weight);
}

Tensor PositionalEmbedding::forward(const Tensor& x) {
  CUREC_CHECK(x.defined() && x.dim() == 3 && x.size(2) == dim() && x.size(1) <= max_length(),
              "PositionalEmbedding: needs x [B, L <= ", max_length(), ", ", dim(), "], got ",
              x.defined() ? x.str() : "none", "; a longer sequence needs a table of more positions");
  const int64_t L = x.size(1);
  // The whole table when the sequence fills it (SASRec's inputs always do), else its first L rows.
  return x + (L == max_length() ? weight : embedding(weight, Tensor::arange(L, DType::i64, x.device())));
}

}  // namespace curec::nn
