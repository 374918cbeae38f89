#include "nn/embedding.h"

#include "nn/init.h"

namespace curec::nn {

Embedding::Embedding(int64_t rows, int64_t dim, EmbeddingOptions options, Generator& gen) : options_(options) {
  CUREC_CHECK(rows > 0 && dim > 0, "Embedding: rows and dim must be positive, got ", rows, " x ", dim);
  weight = Tensor::empty({rows, dim});
  normal_(weight, 0.0f, 1.0f, gen);
  register_parameter("weight", weight);
}

Tensor Embedding::forward(const Tensor& indices) { return embedding(weight, indices, options_); }

}  // namespace curec::nn
