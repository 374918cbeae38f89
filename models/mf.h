#pragma once
// Matrix factorization (D2L §15.3): ŷ_ui = p_u · q_i + b_u + b_i.
#include <memory>

#include "models/rating_model.h"
#include "nn/embedding.h"

namespace curec::models {

class FusedMfStep;

struct MFConfig {
  int64_t num_users = 0;
  int64_t num_items = 0;
  int64_t factors = 30;
  float init_std = 0.01f;    // the book's Normal(0.01)
  bool sparse_grad = false;  // row-sparse embedding gradients (lazy optimizer updates)
};

class MatrixFactorization : public RatingModel {
 public:
  explicit MatrixFactorization(const MFConfig& config, Generator& gen = default_generator());
  Tensor predict(const Tensor& users, const Tensor& items) override;
  // ops/mf_step.h's kernel (models/mf_fused_step.cpp); dense gradients, so not with sparse_grad.
  Tensor fused_step(const Tensor& users, const Tensor& items, const Tensor& ratings) override;
  std::string name() const override { return "mf"; }
  const MFConfig& config() const { return config_; }
  // The four tables, for the fused training step (ops/mf_step.h) that bypasses predict().
  const Tensor& user_factors() const { return user_factors_->weight; }  // P [users, k]
  const Tensor& item_factors() const { return item_factors_->weight; }  // Q [items, k]
  const Tensor& user_bias() const { return user_bias_->weight; }        // [users, 1]
  const Tensor& item_bias() const { return item_bias_->weight; }        // [items, 1]

 private:
  MFConfig config_;
  std::shared_ptr<nn::Embedding> user_factors_, item_factors_, user_bias_, item_bias_;
  std::shared_ptr<FusedMfStep> fused_;  // built at the first fused step, on the tables' device
};

}  // namespace curec::models
