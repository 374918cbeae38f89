#include "models/deepfm.h"

#include "nn/activation.h"
#include "nn/dropout.h"
#include "nn/linear.h"
#include "ops/elementwise.h"
#include "ops/fm.h"
#include "ops/shape.h"

namespace curec::models {

namespace {
FMConfig fm_part(const DeepFMConfig& c) {
  CUREC_CHECK(c.factors > 0, "deepfm: factors must be positive (the MLP reads the embeddings), got ", c.factors);
  return FMConfig{c.field_dims, c.factors};
}
}  // namespace

DeepFM::DeepFM(const DeepFMConfig& c, Generator& gen)
    : FactorizationMachine(fm_part(c), gen), deep_config_(c), dropout_gen_(gen.seed() ^ 0xD7F0D7F0ull) {
  CUREC_CHECK(c.dropout >= 0.0f && c.dropout < 1.0f, "deepfm: dropout must be in [0, 1), got ", c.dropout);
  mlp_ = std::make_shared<nn::Sequential>();
  register_generator("dropout_gen", dropout_gen_);
  int64_t width = num_fields() * c.factors;
  for (int64_t h : c.hidden) {
    CUREC_CHECK(h > 0, "deepfm: hidden layer sizes must be positive, got ", h);
    mlp_->push_back(std::make_shared<nn::Linear>(width, h, nn::LinearOptions{}, gen));
    mlp_->push_back(std::make_shared<nn::ReLU>());
    if (c.dropout > 0.0f) mlp_->push_back(std::make_shared<nn::Dropout>(c.dropout, dropout_gen_));
    width = h;
  }
  mlp_->push_back(std::make_shared<nn::Linear>(width, 1, nn::LinearOptions{}, gen));
  register_module("mlp", mlp_);
}

Tensor DeepFM::logits(const Tensor& x) {
  Tensor y = linear_logit(x);
  Tensor e = field_embeddings(x);  // [batch, fields, k]
  Tensor deep = squeeze(mlp_->forward(flatten(e, 1)), -1);
  return y + fm_interaction(e) + deep;
}

}  // namespace curec::models
