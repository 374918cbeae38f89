#include <cmath>
#include <vector>

#include "data/movielens.h"
#include "data/split.h"
#include "data/synthetic_ratings.h"
#include "models/bpmf.h"
#include "tests/testing.h"
#include "train/tasks/sweep_task.h"
#include "train/trainer.h"

using namespace curec;
using models::BPMFConfig;
using models::PhiloxStream;

TEST_CASE("the gamma sampler has mean shape and variance shape") {
  for (double shape : {0.5, 1.0, 2.5, 7.0}) {
    CAPTURE(shape);
    PhiloxStream rng(3, static_cast<uint64_t>(shape * 10));
    const int n = 200000;
    double s = 0, s2 = 0;
    for (int j = 0; j < n; ++j) {
      const double x = models::sample_gamma(shape, rng);
      REQUIRE(x > 0);
      s += x;
      s2 += x * x;
    }
    const double mean = s / n, var = s2 / n - mean * mean;
    // Standard errors at n = 200000: the mean's sqrt(shape / n) is under 0.5% of shape for shape
    // >= 0.5; the variance's sqrt((2 shape² + 6 shape) / n) / shape is under 1.3%. 1% and 4%.
    CHECK(std::abs(mean - shape) < 0.01 * shape);
    CHECK(std::abs(var - shape) < 0.04 * shape);
  }
  PhiloxStream rng(1, 1);
  double s = 0;
  for (int j = 0; j < 100000; ++j) s += models::sample_chi_square(3.0, rng);
  CHECK(std::abs(s / 100000 - 3.0) < 0.03);  // χ²(3) has mean 3, standard error 0.008
  CHECK_THROWS_AS(models::sample_gamma(0.0, rng), Error);
}

TEST_CASE("Wishart draws average to nu W") {
  const int k = 3;
  const double nu = 5.0;  // small, so that the χ²(nu − j) diagonals include shapes below 1
  const std::vector<double> W = {2.0, 0.5, -0.3, 0.5, 1.0, 0.2, -0.3, 0.2, 0.8};
  std::vector<double> sum(9, 0.0);
  const int n = 40000;
  PhiloxStream rng(7, 0);
  for (int j = 0; j < n; ++j) {
    const std::vector<double> X = models::sample_wishart(W, k, nu, rng);
    for (int e = 0; e < 9; ++e) sum[e] += X[e];
    REQUIRE(X[1] == X[3]);
  }
  // Var(X_ab) = nu (W_ab² + W_aa W_bb) <= 5 (4 + 4) = 40, so each mean's standard error is below
  // sqrt(40 / 40000) ≈ 0.032; the tolerance 0.12 is about 4 standard errors.
  for (int e = 0; e < 9; ++e) {
    CAPTURE(e);
    CHECK(std::abs(sum[e] / n - nu * W[e]) < 0.12);
  }
  CHECK_THROWS_AS(models::sample_wishart(W, k, 1.5, rng), Error);                    // nu <= k - 1
  CHECK_THROWS_AS(models::sample_wishart({1, 2, 2, 1}, 2, 4.0, rng), Error);          // not definite
}

namespace {
double global_mean_rmse(const data::Interactions& train, const data::Interactions& test) {
  double m = 0;
  for (float r : train.rating) m += r;
  m /= static_cast<double>(train.size());
  double se = 0;
  for (float r : test.rating) se += (r - m) * (r - m);
  return std::sqrt(se / static_cast<double>(test.size()));
}

// The sampler's sweeps after those it has done, up to burn-in + samples, called one after another.
void sweep_to_end(models::BPMFSampler& sampler, const BPMFConfig& cfg) {
  for (int s = sampler.state().sweeps + 1; s <= cfg.burn_in + cfg.samples; ++s) sampler.sweep(s);
}
}  // namespace

TEST_CASE("BPMF recovers planted low-rank ratings far better than the global mean") {
  data::SyntheticRatingsConfig sc;
  sc.density = 0.2;
  data::Split split = data::split_random(data::synthetic_ratings(sc), 0.1, 1);
  BPMFConfig cfg;
  cfg.factors = 6;
  cfg.burn_in = 10;
  cfg.samples = 30;
  cfg.alpha = 25.0f;  // noise σ = 0.2: the generator's 0.1 plus clipping; α = 2 (σ ≈ 0.7) over-shrinks (≈ 0.44)
  models::BPMFSampler r(split.train, split.test, cfg);
  sweep_to_end(r, cfg);
  const double baseline = global_mean_rmse(split.train, split.test);
  MESSAGE("synthetic: global-mean RMSE " << baseline << ", BPMF posterior-mean RMSE " << r.posterior_rmse()
                                         << ", last sample " << r.sample_rmse());
  REQUIRE(r.state().sweeps == 40);
  CHECK(r.posterior_rmse() < 0.3 * baseline);  // measured 0.136 against 0.819
  // Averaging samples beats a single sample.
  CHECK(r.posterior_rmse() < r.sample_rmse());
  REQUIRE(r.posterior().size() == split.test.size());
  for (float p : r.posterior()) REQUIRE((p >= 1.0f && p <= 5.0f));
}

TEST_CASE("a seed reproduces a BPMF run; another seed differs") {
  data::SyntheticRatingsConfig sc;
  sc.num_users = 60;
  sc.num_items = 80;
  sc.density = 0.3;
  data::Split split = data::split_random(data::synthetic_ratings(sc), 0.1, 2);
  BPMFConfig cfg;
  cfg.factors = 4;
  cfg.burn_in = 3;
  cfg.samples = 4;
  cfg.seed = 5;
  models::BPMFSampler a(split.train, split.test, cfg), b(split.train, split.test, cfg);
  sweep_to_end(a, cfg);
  sweep_to_end(b, cfg);
  CHECK(a.posterior() == b.posterior());
  CHECK(a.state().user_factors == b.state().user_factors);
  CHECK(a.state().item_factors == b.state().item_factors);
  cfg.seed = 6;
  models::BPMFSampler c(split.train, split.test, cfg);
  sweep_to_end(c, cfg);
  CHECK(c.state().user_factors != a.state().user_factors);
}

TEST_CASE("a BPMF run continued from its state is the uninterrupted run, and its posterior scores any pair") {
  data::SyntheticRatingsConfig sc;
  sc.num_users = 50;
  sc.num_items = 70;
  sc.density = 0.3;
  data::Split split = data::split_random(data::synthetic_ratings(sc), 0.1, 3);
  BPMFConfig cfg;
  cfg.factors = 4;
  cfg.burn_in = 2;
  cfg.samples = 4;
  cfg.seed = 9;
  models::BPMFSampler straight(split.train, split.test, cfg);
  sweep_to_end(straight, cfg);
  const models::BPMFState& straight_state = straight.state();
  CHECK(straight_state.sweeps == 6);
  CHECK(straight_state.kept() == 4);
  // Three sweeps (one sample kept), through the state's file form, then the rest.
  models::BPMFSampler first(split.train, split.test, cfg);
  for (int s = 1; s <= 3; ++s) first.sweep(s);
  REQUIRE(first.state().kept() == 1);
  models::BPMFSampler resumed(split.train, split.test, cfg);
  resumed.restore(models::BPMFState::from_state_dict(first.state().state_dict()));
  CHECK(resumed.state().sweeps == 3);
  sweep_to_end(resumed, cfg);
  const models::BPMFState& state = resumed.state();
  CHECK(resumed.posterior() == straight.posterior());
  CHECK(state.user_factors == straight_state.user_factors);
  CHECK(resumed.posterior_rmse() == straight.posterior_rmse());
  CHECK(state.user_samples == straight_state.user_samples);
  // The posterior mean, recomputed from the kept samples, is the sampler's prediction bit for bit.
  Tensor mean = models::bpmf_posterior_mean(state, split.test.users_tensor(), split.test.items_tensor(), cfg.clip_min,
                                            cfg.clip_max);
  CHECK(mean.to_vector<float>() == straight.posterior());
  // A state of other sizes, or one already past the run's length, is refused by name.
  BPMFConfig wider = cfg;
  wider.factors = 5;
  CHECK(testing::error_of([&] { models::BPMFSampler(split.train, split.test, wider).restore(state); })
            .find("factors") != std::string::npos);
  CHECK(testing::error_of([&] { models::BPMFSampler(split.train, split.test, cfg).restore(state); })
            .find("has done 6 sweeps of the 6") != std::string::npos);
  nn::StateDict torn = state.state_dict();
  torn.erase("samples/item");
  CHECK(testing::error_of([&] { models::BPMFState::from_state_dict(torn); }).find("samples/item") != std::string::npos);
}

TEST_CASE("BPMF rejects bad configurations") {
  data::SyntheticRatingsConfig sc;
  sc.num_users = 10;
  sc.num_items = 10;
  sc.density = 0.5;
  data::Interactions d = data::synthetic_ratings(sc);
  BPMFConfig cfg;
  cfg.samples = 0;
  CHECK_THROWS_AS(models::BPMFSampler(d, d, cfg), Error);
  cfg = BPMFConfig{};
  cfg.alpha = 0;
  CHECK_THROWS_AS(models::BPMFSampler(d, d, cfg), Error);
}

TEST_CASE("BPMF on ML-100K: posterior-mean test RMSE below ALS's 0.920 (random 90/10 split)") {
  CUREC_REQUIRE_DATA(dir, "ml-100k");
  data::Split split = data::split_random(data::read_ml100k(dir), 0.1, 0);
  BPMFConfig cfg;
  // As the tool runs it: through the trainer, an epoch a Gibbs sample.
  models::BPMFSampler sampler(split.train, split.test, cfg, /*keep_samples=*/false);
  train::SweepTask task(sampler);
  train::TrainerConfig tc;
  tc.epochs = cfg.burn_in + cfg.samples;
  tc.batch_size = 1;
  const train::TrainResult r = train::Trainer(task, tc).fit();
  REQUIRE(r.history.size() == static_cast<size_t>(cfg.burn_in + cfg.samples));
  const double test_rmse = r.final_test.at("test_rmse");
  MESSAGE("ML-100K BPMF (K=" << cfg.factors << ", alpha=" << cfg.alpha << ", " << cfg.burn_in << " burn-in + "
                             << cfg.samples << " samples): posterior-mean test RMSE " << test_rmse
                             << ", last single sample " << r.history.back().train_loss << ", " << r.train_seconds
                             << " s of sweeps");
  CHECK(test_rmse == sampler.posterior_rmse());
  CHECK(test_rmse < 0.920);
}
