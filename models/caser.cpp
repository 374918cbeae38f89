#include "models/caser.h"

#include "nn/init.h"
#include "ops/concat.h"
#include "ops/elementwise.h"
#include "ops/matmul.h"
#include "ops/max_pool.h"
#include "ops/reduce.h"
#include "ops/shape.h"

namespace curec::models {

Caser::Caser(const CaserConfig& c, Generator& gen) : config_(c), dropout_gen_(gen.seed() ^ 0xCA5E2CA5ull) {
  CUREC_CHECK(c.num_users > 0 && c.num_items > 0 && c.factors > 0, "caser: needs positive users, items and factors, got ",
              c.num_users, ", ", c.num_items, ", ", c.factors);
  CUREC_CHECK(c.L > 0 && c.d > 0 && c.d_prime > 0, "caser: L, d and d' must be positive, got ", c.L, ", ", c.d, ", ",
              c.d_prime);
  CUREC_CHECK(c.dropout >= 0.0f && c.dropout < 1.0f, "caser: dropout must be in [0, 1), got ", c.dropout);
  const int64_t k = c.factors;
  register_generator("dropout_gen", dropout_gen_);
  EmbeddingOptions eo;
  user_emb_ = register_module("user_emb", std::make_shared<nn::Embedding>(c.num_users, k, eo, gen));
  seq_items_ = register_module("seq_items", std::make_shared<nn::Embedding>(c.num_items + 1, k, eo, gen));
  vertical_ = register_module("conv_v", std::make_shared<nn::Conv2d>(1, c.d_prime, c.L, 1, nn::Conv2dOptions{}, gen));
  for (int64_t h = 1; h <= c.L; ++h)
    horizontal_.push_back(
        register_module("conv_h" + std::to_string(h), std::make_shared<nn::Conv2d>(1, c.d, h, k, nn::Conv2dOptions{}, gen)));
  dropout_ = register_module("dropout", std::make_shared<nn::Dropout>(c.dropout, dropout_gen_));
  fc_ = register_module("fc", std::make_shared<nn::Linear>(c.d_prime * k + c.d * c.L, k, nn::LinearOptions{}, gen));
  out_items_ = register_module("out_items", std::make_shared<nn::Embedding>(c.num_items, 2 * k, eo, gen));
  out_bias_ = register_module("out_bias", std::make_shared<nn::Embedding>(c.num_items, 1, eo, gen));
  for (auto& [name, p] : named_parameters()) nn::normal_(p, 0.0f, c.init_std, gen);
}

Tensor Caser::represent(const Tensor& users, const Tensor& sequences) {
  const int64_t L = config_.L, k = config_.factors;
  CUREC_CHECK(users.defined() && sequences.defined() && users.dim() == 1 && sequences.dim() == 2 &&
                  sequences.size(0) == users.size(0) && sequences.size(1) == L,
              "caser: needs users [n] and sequences [n, L = ", L, "], got ", users.defined() ? users.str() : "none",
              " and ", sequences.defined() ? sequences.str() : "none");
  const int64_t n = users.size(0);
  Tensor image = reshape(seq_items_->forward(sequences), {n, 1, L, k});
  std::vector<Tensor> features{reshape(vertical_->forward(image), {n, config_.d_prime * k})};
  for (int64_t h = 1; h <= L; ++h) {
    const int64_t steps = L - h + 1;
    Tensor c = reshape(relu(horizontal_[h - 1]->forward(image)), {n, config_.d, steps});
    features.push_back(reshape(max_pool1d(c, steps), {n, config_.d}));
  }
  Tensor z = relu(fc_->forward(dropout_->forward(concat(features, 1))));
  return concat({z, user_emb_->forward(users)}, 1);
}

Tensor Caser::score(const Tensor& representation, const Tensor& items) {
  CUREC_CHECK(items.defined() && items.dim() == 1 && items.size(0) == representation.size(0),
              "caser: needs one item per representation row, got ", items.defined() ? items.str() : "none", " for ",
              representation.str());
  return sum(representation * out_items_->forward(items), 1) + squeeze(out_bias_->forward(items), -1);
}

Tensor Caser::score_all_items(const Tensor& users, const Tensor& sequences) {
  Tensor r = represent(users, sequences);
  return matmul(r, out_items_->weight, false, true) + reshape(out_bias_->weight, {config_.num_items});
}

}  // namespace curec::models
