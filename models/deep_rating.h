#pragma once
// The course notes' neural rating models, both predicting offsets from the global training
// mean μ (so the networks start near the best constant predictor and learn only the deviation):
//   DeepRatingNet:     ŷ = μ + MLP([p_u; q_i]),  MLP = Linear(2k, 400) -> ReLU -> Linear(400, 1)
//   ResidualRatingNet: ŷ = μ + p_u·q_i + b_u + b_i + MLP([p_u; q_i])
// The residual net's MLP reads the same factors as its MF branch: MF is the identity path and
// the MLP learns what the dot product misses.
#include <memory>

#include "models/rating_model.h"
#include "nn/embedding.h"
#include "nn/sequential.h"

namespace curec::models {

struct DeepRatingConfig {
  int64_t num_users = 0;
  int64_t num_items = 0;
  int64_t factors = 32;     // k: width of each user and item embedding
  int64_t hidden = 400;     // the MLP's hidden layer
  float global_mean = 0.0f; // μ: the mean training rating (a constant, not trained)
  float init_std = 0.1f;    // embeddings ~ N(0, init_std²); Linear layers keep PyTorch's default init
};

class DeepRatingNet : public RatingModel {
 public:
  explicit DeepRatingNet(const DeepRatingConfig& config, Generator& gen = default_generator());
  Tensor predict(const Tensor& users, const Tensor& items) override;
  std::string name() const override { return "deep_rating"; }
  const DeepRatingConfig& config() const { return config_; }

 private:
  DeepRatingConfig config_;
  std::shared_ptr<nn::Embedding> user_factors_, item_factors_;
  std::shared_ptr<nn::Sequential> mlp_;
};

class ResidualRatingNet : public RatingModel {
 public:
  explicit ResidualRatingNet(const DeepRatingConfig& config, Generator& gen = default_generator());
  Tensor predict(const Tensor& users, const Tensor& items) override;
  std::string name() const override { return "residual_rating"; }
  const DeepRatingConfig& config() const { return config_; }

 private:
  DeepRatingConfig config_;
  std::shared_ptr<nn::Embedding> user_factors_, item_factors_, user_bias_, item_bias_;
  std::shared_ptr<nn::Sequential> mlp_;
};

}  // namespace curec::models
