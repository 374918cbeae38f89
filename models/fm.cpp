#include "models/fm.h"

#include "nn/init.h"
#include "ops/elementwise.h"
#include "ops/fm.h"
#include "ops/reduce.h"
#include "ops/shape.h"

namespace curec::models {

FactorizationMachine::FactorizationMachine(const FMConfig& c, Generator& gen) : config_(c) {
  CUREC_CHECK(!c.field_dims.empty(), "fm: needs at least one field (field_dims is empty)");
  CUREC_CHECK(c.factors >= 0, "fm: factors must be >= 0, got ", c.factors);
  for (int64_t d : c.field_dims) {
    CUREC_CHECK(d > 0, "fm: every field needs at least one value, got field dim ", d);
    num_features_ += d;
  }
  if (c.factors > 0) {
    embedding_ = register_module("embedding", std::make_shared<nn::Embedding>(num_features_, c.factors,
                                                                              EmbeddingOptions{}, gen));
    nn::xavier_uniform_(embedding_->weight, 1.0f, gen);
  }
  linear_ = register_module("linear", std::make_shared<nn::Embedding>(num_features_, 1, EmbeddingOptions{}, gen));
  nn::xavier_uniform_(linear_->weight, 1.0f, gen);
  bias_ = Tensor::zeros({1});
  register_parameter("bias", bias_);
}

void FactorizationMachine::check_input(const Tensor& x) const {
  CUREC_CHECK(x.defined() && x.dim() == 2 && x.size(1) == num_fields(), name(), ": input must be [batch, ",
              num_fields(), "] feature indices (one per field), got ", x.defined() ? x.str() : "undefined");
  CUREC_CHECK(x.dtype() == DType::i32 || x.dtype() == DType::i64, name(), ": feature indices must be i32 or i64, got ",
              x.str());
}

Tensor FactorizationMachine::linear_logit(const Tensor& x) {
  check_input(x);
  Tensor w = squeeze(linear_->forward(x), -1);  // [batch, fields]
  return sum(w, 1) + bias_;
}

Tensor FactorizationMachine::field_embeddings(const Tensor& x) {
  CUREC_CHECK(embedding_ != nullptr, name(), ": has no factors (factors = 0), so no field embeddings");
  return embedding_->forward(x);
}

Tensor FactorizationMachine::logits(const Tensor& x) {
  Tensor y = linear_logit(x);
  if (config_.factors == 0) return y;
  return y + fm_interaction(field_embeddings(x));
}

Tensor FactorizationMachine::predict(const Tensor& x) { return sigmoid(logits(x)); }

}  // namespace curec::models
