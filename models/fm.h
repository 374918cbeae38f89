#pragma once
// Factorization machine (D2L §15.9) over categorical fields. Each row is one global feature
// index per field (offset of the field + local value, as data/ctr.h encodes it):
//   logit = b + Σ_f w[x_f] + Σ_{f<g} <v[x_f], v[x_g]>,   p = σ(logit).
// w is a one-wide embedding over all features, v a k-wide one; both start xavier-uniform (the
// book's init), b at zero. With factors = 0 the pairwise term is dropped and the model is a
// logistic regression over one-hot features: the baseline an FM has to beat.
#include <memory>
#include <string>
#include <vector>

#include "core/generator.h"
#include "models/ctr_model.h"
#include "nn/embedding.h"

namespace curec::models {

struct FMConfig {
  std::vector<int64_t> field_dims;  // values per field (data::CtrData::field_dims)
  int64_t factors = 20;             // k; 0 = logistic regression
};

class FactorizationMachine : public CtrModel {
 public:
  explicit FactorizationMachine(const FMConfig& config, Generator& gen = default_generator());

  // fields: i32/i64 [batch, num_fields] global feature indices -> f32 [batch] logits (what
  // the loss takes: bce_with_logits is stable where log σ is not).
  Tensor logits(const Tensor& fields) override;
  // Click probabilities σ(logits) -> f32 [batch].
  Tensor predict(const Tensor& fields) override;
  std::string name() const override { return config_.factors > 0 ? "fm" : "logistic"; }

  const FMConfig& config() const { return config_; }
  int64_t num_fields() const override { return static_cast<int64_t>(config_.field_dims.size()); }
  int64_t num_features() const { return num_features_; }

 protected:
  // The shared part of FM and DeepFM: b + Σ_f w[x_f] -> [batch].
  Tensor linear_logit(const Tensor& fields);
  // v[x_f] for every field -> [batch, num_fields, k] (factors > 0 only).
  Tensor field_embeddings(const Tensor& fields);
  void check_input(const Tensor& fields) const;

 private:
  FMConfig config_;
  int64_t num_features_ = 0;
  std::shared_ptr<nn::Embedding> embedding_, linear_;  // v [features, k], w [features, 1]
  Tensor bias_;                                        // [1]
};

}  // namespace curec::models
