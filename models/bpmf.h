#pragma once
// Bayesian probabilistic matrix factorisation by Gibbs sampling (Salakhutdinov & Mnih 2008), the
// course notes §9. CPU only: there is no CUDA path (a sweep on ML-100K takes milliseconds).
//
//   r_ui ~ N(μ + p_u·q_i, α⁻¹)      μ = the mean training rating, fixed (not sampled)
//   p_u ~ N(μ_U, Λ_U⁻¹)             q_i ~ N(μ_I, Λ_I⁻¹)
//   (μ_U, Λ_U), (μ_I, Λ_I) ~ Normal–Wishart(μ0 = 0, β0, ν0 = K, W0 = I)
//
// A sweep draws (μ_U, Λ_U) from its Normal–Wishart posterior given all p_u, then every p_u from
// its Gaussian conditional (precision Λ_U + α Σ_i q_i q_iᵀ, mean precision⁻¹ (Λ_U μ_U +
// α Σ_i (r_ui − μ) q_i), drawn through the precision's Cholesky factor), then the same for the
// items. The data sums Σ q qᵀ and Σ (r − μ) q are ALS's normal equations (models/als.h) without
// bias and ridge. The factors start as small random values N(0, init_std²), not from a MAP fit.
//
// Prediction is the posterior mean: the average of μ + p_u·q_i over the samples drawn after
// burn-in, clipped to [1, 5] only when it is read as a prediction (the samples are never clipped).
// Every draw comes from Philox (core/philox.h) on a stream keyed by (seed, sweep, role, row), so a
// seed reproduces a run and the draws do not depend on the order rows are visited in.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "data/interactions.h"
#include "models/als.h"
#include "models/sweep_model.h"
#include "nn/state_dict.h"

namespace curec::models {

struct BPMFConfig {
  int64_t factors = 10;
  float alpha = 2.0f;    // observation precision: noise standard deviation α^-1/2
  double beta0 = 2.0;    // Normal–Wishart prior: μ0 = 0, ν0 = factors, W0 = I
  int burn_in = 16;      // sweeps whose samples are discarded
  int samples = 64;      // sweeps averaged into the posterior mean after burn-in
  float init_std = 0.1f; // initial factors N(0, init_std²)
  float clip_min = 1.0f, clip_max = 5.0f;
  uint64_t seed = 0;
};

// Where a run stands after some sweeps: the current sample and every sample kept after burn-in.
// That is all a run needs to continue bit for bit (every draw is keyed by seed, sweep and row,
// not by a generator's position), and all the posterior mean needs to score any pair.
struct BPMFState {
  int sweeps = 0;  // done
  int64_t num_users = 0, num_items = 0, factors = 0;
  float mean = 0;  // μ
  std::vector<float> user_factors, item_factors;  // the last sample, [U, K] and [I, K]
  std::vector<float> user_samples, item_samples;  // the kept samples, [S, U, K] and [S, I, K]
  int kept() const { return factors > 0 && num_users > 0 ? static_cast<int>(user_samples.size() / (num_users * factors)) : 0; }

  // "factors/user" [U, K], "factors/item" [I, K], "samples/user" [S, U, K], "samples/item"
  // [S, I, K], "mean" [1], "sweeps" i64 [1].
  nn::StateDict state_dict() const;
  // The state a state_dict() wrote; a missing tensor or inconsistent shapes are errors.
  static BPMFState from_state_dict(const nn::StateDict& state);
};

// The posterior mean of (user, item) pairs (i32 [n] each -> f32 [n]): μ + p_u·q_i averaged over
// the kept samples in double, in the order BPMFSampler averages them (so it gives its
// posterior() bit for bit), clipped to [clip_min, clip_max]. Needs at least one kept sample.
Tensor bpmf_posterior_mean(const BPMFState& state, const Tensor& users, const Tensor& items, float clip_min,
                           float clip_max);

// The Gibbs sampler as the trainer runs it (models/sweep_model.h): a sweep draws one sample,
// reports that sample's test RMSE, and adds it to the posterior mean, whose test RMSE is the
// test metric "test_rmse". CPU only. The data must outlive it.
class BPMFSampler : public SweepModel {
 public:
  // keep_samples: keep every sample after burn-in in state() (what a checkpoint and a saved
  // model's posterior mean need); without, only the test pairs' running sums.
  BPMFSampler(const data::Interactions& train, const data::Interactions& test, const BPMFConfig& cfg,
              bool keep_samples = true);
  std::string name() const override { return "bpmf"; }
  void to(Device device) override;  // the CPU only
  double sweep(int sweep) override;
  std::map<std::string, double> test_metrics() override;
  nn::StateDict state_dict() const override { return state_.state_dict(); }
  void load_state_dict(const nn::StateDict& state) override;
  // Continues from a state of this data, sizes and burn-in (an error otherwise).
  void restore(const BPMFState& state);

  const BPMFState& state() const { return state_; }
  double sample_rmse() const;     // of the last sample alone (clipped); 0 without test pairs
  double posterior_rmse() const;  // of the posterior mean so far (clipped; the sample during burn-in)
  const std::vector<float>& posterior() const { return posterior_; }  // of every test pair, clipped

 private:
  BPMFConfig cfg_;
  const data::Interactions& test_;
  bool keep_samples_;
  ALSData data_;
  Tensor P_, Q_, zero_user_bias_, zero_item_bias_;
  BPMFState state_;
  std::vector<double> sum_;               // Σ over the kept samples, per test pair
  std::vector<float> sample_, posterior_;  // per test pair, clipped
  int averaged_ = 0;                       // samples in sum_
};

// The sampler's random draws, exposed for tests: one Philox stream, read in sequence.
class PhiloxStream {
 public:
  // Draws from Philox keyed by (seed, stream): distinct streams never share counters.
  PhiloxStream(uint64_t seed, uint64_t stream);
  double uniform();  // [0, 1)
  double normal();   // N(0, 1)

 private:
  uint64_t key_, counter_ = 0;
};

// Gamma(shape, 1) by Marsaglia & Tsang (2000); shape < 1 through Gamma(shape + 1)·U^(1/shape).
double sample_gamma(double shape, PhiloxStream& rng);
// χ²(dof) = 2·Gamma(dof / 2).
double sample_chi_square(double dof, PhiloxStream& rng);
// A draw from Wishart(W, nu) for W k×k symmetric positive definite (row-major) and nu > k − 1,
// by the Bartlett decomposition: L A Aᵀ Lᵀ with W = L Lᵀ, A lower triangular, A_jj² ~ χ²(nu − j)
// (0-based j) and N(0, 1) below the diagonal. Its mean is nu·W.
std::vector<double> sample_wishart(const std::vector<double>& W, int k, double nu, PhiloxStream& rng);

}  // namespace curec::models
