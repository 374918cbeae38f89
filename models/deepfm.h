#pragma once
// DeepFM (D2L §15.10): an FM and an MLP that share the field embeddings. The MLP reads the
// concatenated embeddings [batch, fields·k] through hidden layers (Linear, ReLU, Dropout) and
// a final Linear to one output, which is added to the FM logit:
//   logit = b + Σ_f w[x_f] + Σ_{f<g} <v[x_f], v[x_g]> + MLP(v[x_1] ⊕ … ⊕ v[x_F]).
#include <memory>
#include <vector>

#include "models/fm.h"
#include "nn/sequential.h"

namespace curec::models {

struct DeepFMConfig {
  std::vector<int64_t> field_dims;
  int64_t factors = 10;
  std::vector<int64_t> hidden{30, 20, 10};
  float dropout = 0.1f;
};

class DeepFM : public FactorizationMachine {
 public:
  // Dropout draws from a generator the model owns (seeded from gen's seed), so the model
  // stays valid after `gen` is gone and a seed reproduces its masks.
  explicit DeepFM(const DeepFMConfig& config, Generator& gen = default_generator());

  Tensor logits(const Tensor& fields) override;
  std::string name() const override { return "deepfm"; }
  const DeepFMConfig& deep_config() const { return deep_config_; }

 private:
  DeepFMConfig deep_config_;
  Generator dropout_gen_;
  std::shared_ptr<nn::Sequential> mlp_;
};

}  // namespace curec::models
