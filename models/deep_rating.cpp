#include "models/deep_rating.h"

#include "nn/init.h"
#include "nn/mlp.h"
#include "ops/concat.h"
#include "ops/elementwise.h"
#include "ops/reduce.h"
#include "ops/shape.h"

namespace curec::models {
namespace {
void check_config(const DeepRatingConfig& c, const char* model) {
  CUREC_CHECK(c.num_users > 0 && c.num_items > 0 && c.factors > 0 && c.hidden > 0, model,
              ": needs positive users, items, factors and hidden units, got ", c.num_users, ", ", c.num_items, ", ",
              c.factors, ", ", c.hidden);
}

std::shared_ptr<nn::Embedding> embedding(int64_t rows, int64_t dim, float stddev, Generator& gen) {
  auto e = std::make_shared<nn::Embedding>(rows, dim, EmbeddingOptions{}, gen);
  nn::normal_(e->weight, 0.0f, stddev, gen);
  return e;
}

std::shared_ptr<nn::Sequential> rating_mlp(const DeepRatingConfig& c, Generator& gen) {
  return nn::mlp({2 * c.factors, c.hidden, 1}, {.activation = nn::Activation::relu}, gen);
}

// MLP([p; q]) as [batch].
Tensor mlp_branch(nn::Sequential& mlp, const Tensor& p, const Tensor& q) {
  return squeeze(mlp.forward(concat({p, q}, 1)), -1);
}
}  // namespace

DeepRatingNet::DeepRatingNet(const DeepRatingConfig& c, Generator& gen) : config_(c) {
  check_config(c, "deep_rating");
  user_factors_ = register_module("user_factors", embedding(c.num_users, c.factors, c.init_std, gen));
  item_factors_ = register_module("item_factors", embedding(c.num_items, c.factors, c.init_std, gen));
  mlp_ = register_module("mlp", rating_mlp(c, gen));
}

Tensor DeepRatingNet::predict(const Tensor& users, const Tensor& items) {
  return mlp_branch(*mlp_, user_factors_->forward(users), item_factors_->forward(items)) + config_.global_mean;
}

ResidualRatingNet::ResidualRatingNet(const DeepRatingConfig& c, Generator& gen) : config_(c) {
  check_config(c, "residual_rating");
  user_factors_ = register_module("user_factors", embedding(c.num_users, c.factors, c.init_std, gen));
  item_factors_ = register_module("item_factors", embedding(c.num_items, c.factors, c.init_std, gen));
  user_bias_ = register_module("user_bias", embedding(c.num_users, 1, c.init_std, gen));
  item_bias_ = register_module("item_bias", embedding(c.num_items, 1, c.init_std, gen));
  mlp_ = register_module("mlp", rating_mlp(c, gen));
}

Tensor ResidualRatingNet::predict(const Tensor& users, const Tensor& items) {
  Tensor p = user_factors_->forward(users), q = item_factors_->forward(items);
  Tensor mf = sum(p * q, 1) + squeeze(user_bias_->forward(users), -1) + squeeze(item_bias_->forward(items), -1);
  return mf + mlp_branch(*mlp_, p, q) + config_.global_mean;
}

}  // namespace curec::models
