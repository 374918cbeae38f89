#include "models/mf.h"

#include "nn/init.h"
#include "ops/elementwise.h"
#include "ops/reduce.h"
#include "ops/shape.h"

namespace curec::models {

MatrixFactorization::MatrixFactorization(const MFConfig& c, Generator& gen) : config_(c) {
  CUREC_CHECK(c.num_users > 0 && c.num_items > 0 && c.factors > 0, "mf: needs positive users, items and factors, got ",
              c.num_users, ", ", c.num_items, ", ", c.factors);
  EmbeddingOptions opt;
  opt.sparse_grad = c.sparse_grad;
  user_factors_ = register_module("user_factors", std::make_shared<nn::Embedding>(c.num_users, c.factors, opt));
  item_factors_ = register_module("item_factors", std::make_shared<nn::Embedding>(c.num_items, c.factors, opt));
  user_bias_ = register_module("user_bias", std::make_shared<nn::Embedding>(c.num_users, 1, opt));
  item_bias_ = register_module("item_bias", std::make_shared<nn::Embedding>(c.num_items, 1, opt));
  for (auto& [name, p] : named_parameters()) nn::normal_(p, 0.0f, c.init_std, gen);
}

Tensor MatrixFactorization::predict(const Tensor& users, const Tensor& items) {
  Tensor p = user_factors_->forward(users);
  Tensor q = item_factors_->forward(items);
  Tensor bu = squeeze(user_bias_->forward(users), -1);
  Tensor bi = squeeze(item_bias_->forward(items), -1);
  return sum(p * q, 1) + bu + bi;
}

}  // namespace curec::models
