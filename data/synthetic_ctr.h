#pragma once
// Planted CTR data: labels drawn from a hidden factorization machine, so an FM (or DeepFM)
// trained on the rows can recover a known signal. For a row with feature indices x_f:
//   logit = bias + sum_f w[x_f] + sum_{f<g} <v[x_f], v[x_g]>,  label ~ Bernoulli(sigmoid(logit)).
// Weights are normal; latent vectors are scaled so the pairwise term has about unit variance.
#include <cstdint>
#include <vector>

#include "data/ctr.h"

namespace curec::data {

struct SyntheticCtrOptions {
  int64_t rows = 10000;
  std::vector<int64_t> field_dims{20, 30, 10, 50, 15, 8};
  int64_t latent_dim = 4;
  float bias = -1.0f;          // sets the click rate (about 0.3 here)
  float linear_scale = 0.5f;   // std of w
  float interaction_scale = 1.0f;  // std of the pairwise term, roughly
  uint64_t seed = 0;
};

struct SyntheticCtr {
  CtrData data;
  std::vector<float> w;          // [num_features]
  std::vector<float> v;          // [num_features, latent_dim]
  float bias = 0;
  int64_t latent_dim = 0;
  std::vector<float> probability;  // [rows]: the planted click probability of each row
};

SyntheticCtr synthetic_ctr(const SyntheticCtrOptions& options);

}  // namespace curec::data
