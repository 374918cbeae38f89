#include <cmath>
#include <cstdio>

#include "core/philox.h"
#include "data/movielens.h"
#include "data/split.h"
#include "data/synthetic_ratings.h"
#include "models/als.h"
#include "tests/testing.h"
#include "train/tasks/sweep_task.h"
#include "train/trainer.h"

using namespace curec;
using models::ALS;
using models::ALSConfig;

namespace {

// cfg.sweeps of ALS on `device` as the tool runs them: through the trainer, an epoch a sweep.
train::TrainResult fit(const data::Split& split, const ALSConfig& cfg, Device device) {
  ALS model(split.train.num_users, split.train.num_items, cfg, device);
  models::ALSSweeps sweeps(model, split.train, split.test);
  train::SweepTask task(sweeps);
  train::TrainerConfig tc;
  tc.epochs = cfg.sweeps;
  tc.batch_size = 1;
  tc.device = device;
  return train::Trainer(task, tc).fit();
}

// rating(u, i) = mu + bu_u + ci_i + p_u·q_i exactly (no noise, no clipping). Each cell is
// observed with probability `density`; the rest form the held-out set. User `empty_user` (if
// >= 0) has no observed ratings.
struct Planted {
  data::Interactions observed, held_out;
};
Planted planted(int32_t users, int32_t items, int64_t rank, double density, float noise, uint64_t seed,
                int32_t empty_user = -1) {
  std::vector<float> p = testing::randn({users, rank}, seed, 0.7f).to_vector<float>();
  std::vector<float> q = testing::randn({items, rank}, seed + 1, 0.7f).to_vector<float>();
  std::vector<float> bu = testing::randn({users}, seed + 2, 0.4f).to_vector<float>();
  std::vector<float> ci = testing::randn({items}, seed + 3, 0.4f).to_vector<float>();
  std::vector<float> eps = testing::randn({users, items}, seed + 4, noise).to_vector<float>();
  Planted out;
  for (data::Interactions* d : {&out.observed, &out.held_out}) {
    d->num_users = users;
    d->num_items = items;
  }
  for (int32_t u = 0; u < users; ++u)
    for (int32_t i = 0; i < items; ++i) {
      float r = 3.5f + bu[u] + ci[i] + eps[static_cast<size_t>(u) * items + i];
      for (int64_t f = 0; f < rank; ++f) r += p[u * rank + f] * q[i * rank + f];
      const bool seen = u != empty_user && philox::uniform(seed, 7, static_cast<uint64_t>(u) * items + i) < density;
      (seen ? out.observed : out.held_out).push_back(u, i, r, 0);
    }
  return out;
}

std::vector<float> host(const Tensor& t) { return t.cpu().to_vector<float>(); }

}  // namespace

TEST_CASE("ALS recovers a planted rank-K matrix with biases") {
  Planted d = planted(60, 45, 3, 0.5, 0.0f, 11);
  ALSConfig cfg;
  cfg.factors = 3;
  cfg.lambda = 1e-6f;
  cfg.seed = 3;
  ALS model(60, 45, cfg);
  const double before = models::als_rmse(model, d.observed);
  const models::ALSData data = models::als_data(d.observed);
  for (int s = 0; s < 100; ++s) model.fit_sweep(data);
  const double train = models::als_rmse(model, d.observed), held = models::als_rmse(model, d.held_out);
  MESSAGE("planted: train RMSE " << before << " -> " << train << ", held-out RMSE " << held);
  CHECK(before > 0.5);
  CHECK(train < 1e-3);
  CHECK(held < 1e-2);  // the unobserved cells too: the matrix itself is recovered
}

TEST_CASE("every ALS sweep lowers the regularised objective (both lambda scalings)") {
  Planted d = planted(50, 40, 4, 0.3, 0.3f, 5, /*empty_user=*/7);
  for (bool scale : {true, false}) {
    CAPTURE(scale);
    ALSConfig cfg;
    cfg.factors = 6;
    cfg.lambda = scale ? 0.05f : 2.0f;
    cfg.scale_lambda_by_count = scale;
    ALS model(50, 40, cfg);
    const models::ALSData data = models::als_data(d.observed);
    std::vector<double> obj;
    for (int s = 0; s < 15; ++s) {
      model.fit_sweep(data);
      obj.push_back(model.objective(d.observed));
    }
    for (size_t s = 1; s < obj.size(); ++s) {
      CAPTURE(s);
      CHECK(obj[s] <= obj[s - 1] * (1 + 1e-6));
    }
    CHECK(obj.back() < 0.9 * obj.front());
  }
}

TEST_CASE("the objective is what the model's state says") {
  // One user, one item, one rating: every term by hand.
  data::Interactions d;
  d.num_users = 1;
  d.num_items = 1;
  d.push_back(0, 0, 4.0f, 0);
  ALSConfig cfg;
  cfg.factors = 1;
  cfg.lambda = 0.5f;
  cfg.scale_lambda_by_count = false;
  ALS model(1, 1, cfg);
  model.load_state_dict({{"user_factors", Tensor::from_vector<float>({2.0f}, {1, 1})},
                         {"user_bias", Tensor::from_vector<float>({0.5f}, {1})},
                         {"item_factors", Tensor::from_vector<float>({-1.0f}, {1, 1})},
                         {"item_bias", Tensor::from_vector<float>({0.25f}, {1})},
                         {"mean", Tensor::scalar(3.0f)}});
  // r̂ = 3 + 0.5 + 0.25 - 2 = 1.75; (4 - 1.75)² + 0.5 (4 + 0.25) + 0.5 (1 + 0.0625)
  CHECK(model.objective(d) == doctest::Approx(2.25 * 2.25 + 0.5 * 4.25 + 0.5 * 1.0625));
  CHECK(model.predict(Tensor::from_vector<int32_t>({0}), Tensor::from_vector<int32_t>({0})).item() ==
        doctest::Approx(1.75));
}

TEST_CASE("a user with no ratings predicts mu + c_i") {
  Planted d = planted(30, 20, 2, 0.5, 0.1f, 9, /*empty_user=*/4);
  ALSConfig cfg;
  cfg.factors = 4;
  for (bool scale : {true, false}) {
    cfg.scale_lambda_by_count = scale;
    cfg.lambda = scale ? 0.05f : 1.0f;
    ALS model(30, 20, cfg);
    model.fit_sweep(d.observed, Device::cpu());
    std::vector<int32_t> items(20), users(20, 4);
    for (int32_t i = 0; i < 20; ++i) items[i] = i;
    std::vector<float> pred =
        model.predict(Tensor::from_vector(users), Tensor::from_vector(items)).to_vector<float>();
    std::vector<float> ci = host(model.item_bias());
    for (int32_t i = 0; i < 20; ++i) CHECK(pred[i] == doctest::Approx(model.mean() + ci[i]).epsilon(1e-6));
    std::vector<float> p = host(model.user_factors());
    for (int64_t f = 0; f < 4; ++f) CHECK(p[4 * 4 + f] == 0.0f);
    CHECK(host(model.user_bias())[4] == 0.0f);
  }
}

TEST_CASE("the batched Cholesky solve solves every system") {
  const int64_t n = 200, dim = 5;  // enough systems to be split across threads
  std::vector<float> m = testing::randn({n, dim, dim}, 21).to_vector<float>();
  std::vector<float> a(static_cast<size_t>(n * dim * dim));
  for (int64_t s = 0; s < n; ++s)  // A = MᵀM + I
    for (int64_t i = 0; i < dim; ++i)
      for (int64_t j = 0; j < dim; ++j) {
        float v = i == j ? 1.0f : 0.0f;
        for (int64_t t = 0; t < dim; ++t) v += m[(s * dim + t) * dim + i] * m[(s * dim + t) * dim + j];
        a[(s * dim + i) * dim + j] = v;
      }
  Tensor A = Tensor::from_vector(a, {n, dim, dim}), b = testing::randn({n, dim}, 22);
  Tensor A_copy = A.clone();
  std::vector<float> x = models::solve_spd_batched(A, b).to_vector<float>(), bv = b.to_vector<float>();
  for (int64_t s = 0; s < n; ++s)
    for (int64_t i = 0; i < dim; ++i) {
      double ax = 0;
      for (int64_t j = 0; j < dim; ++j) ax += a[(s * dim + i) * dim + j] * x[s * dim + j];
      CHECK(ax == doctest::Approx(bv[s * dim + i]).epsilon(1e-4).scale(1.0));
    }
  testing::check_close(A, A_copy, 0, 0, "A is left unchanged");
  // A matrix that is not positive definite is an error naming it.
  a[(150 * dim + 2) * dim + 2] = -5.0f;
  CHECK_THROWS_WITH_AS(models::solve_spd_batched(Tensor::from_vector(a, {n, dim, dim}), b),
                       doctest::Contains("system 150"), Error);
}

TEST_CASE("ALS rejects bad input") {
  data::Interactions d;
  d.num_users = 2;
  d.num_items = 2;
  d.push_back(0, 1, 3.0f, 0);
  d.push_back(0, 1, 4.0f, 0);
  CHECK_THROWS_WITH_AS(models::als_data(d), doctest::Contains("twice"), Error);
  ALSConfig cfg;
  cfg.lambda = 0.0f;
  CHECK_THROWS_AS(ALS(2, 2, cfg), Error);
  ALS model(2, 2, ALSConfig{});
  CHECK_THROWS_WITH_AS(model.predict(Tensor::from_vector<int32_t>({2}), Tensor::from_vector<int32_t>({0})),
                       doctest::Contains("outside"), Error);
}

TEST_CASE("ALS state round-trips through its state dict") {
  Planted d = planted(20, 15, 2, 0.6, 0.1f, 13);
  ALSConfig cfg;
  cfg.factors = 3;
  ALS a(20, 15, cfg);
  a.fit_sweep(d.observed, Device::cpu());
  cfg.seed = 99;
  ALS b(20, 15, cfg);
  b.load_state_dict(a.state_dict());
  CHECK(b.mean() == a.mean());
  testing::check_close(b.predict(d.held_out.users_tensor(), d.held_out.items_tensor()),
                       a.predict(d.held_out.users_tensor(), d.held_out.items_tensor()), 0, 0, "predictions");
}

TEST_CASE("ALS continued from a checkpointed model is the uninterrupted run") {
  data::SyntheticRatingsConfig sc;
  sc.num_users = 40;
  sc.num_items = 30;
  sc.density = 0.3;
  data::Split split = data::split_random(data::synthetic_ratings(sc), 0.1, 1);
  ALSConfig cfg;
  cfg.factors = 3;
  const models::ALSData d = models::als_data(split.train);
  ALS straight(split.train.num_users, split.train.num_items, cfg), part(split.train.num_users, split.train.num_items, cfg);
  for (int s = 0; s < 4; ++s) straight.fit_sweep(d);
  for (int s = 0; s < 2; ++s) part.fit_sweep(d);
  // A sweep depends only on the model before it: two more sweeps from the state after two are
  // the four, whatever seed the model that loads it was made with.
  cfg.seed = 77;
  ALS loaded(split.train.num_users, split.train.num_items, cfg);
  loaded.load_state_dict(part.state_dict());
  for (int s = 0; s < 2; ++s) loaded.fit_sweep(d);
  CHECK(models::als_rmse(loaded, split.test) == models::als_rmse(straight, split.test));
  CHECK(loaded.user_factors().to_vector<float>() == straight.user_factors().to_vector<float>());
  CHECK(loaded.item_bias().to_vector<float>() == straight.item_bias().to_vector<float>());
}

TEST_CASE("ALS on ML-100K: test RMSE <= 0.93 within 20 sweeps (random 90/10 split)") {
  CUREC_REQUIRE_DATA(dir, "ml-100k");
  data::Split split = data::split_random(data::read_ml100k(dir), 0.1, 0);
  ALSConfig cfg;
  const train::TrainResult r = fit(split, cfg, Device::cpu());
  REQUIRE(r.history.size() == 20);
  const double train_rmse = r.history.back().train_loss, test_rmse = r.final_test.at("test_rmse");
  double best = test_rmse;
  int best_sweep = 20;
  for (const auto& e : r.history)
    if (e.test.at("test_rmse") < best) best = e.test.at("test_rmse"), best_sweep = e.epoch;
  MESSAGE("ML-100K ALS (K=" << cfg.factors << ", weighted lambda=" << cfg.lambda << "): train RMSE " << train_rmse
                            << ", test RMSE " << test_rmse << " after 20 sweeps (best " << best << " at sweep "
                            << best_sweep << "), " << r.train_seconds << " s of sweeps");
  CHECK(test_rmse <= 0.93);
  CHECK(train_rmse < test_rmse);
}

TEST_SUITE("cuda") {
  TEST_CASE("ALS parity: normal equations, one sweep and predictions agree on CPU and CUDA") {
    Planted d = planted(120, 90, 5, 0.15, 0.3f, 17, /*empty_user=*/10);
    for (bool scale : {true, false}) {
      CAPTURE(scale);
      ALSConfig cfg;
      cfg.factors = 8;
      cfg.scale_lambda_by_count = scale;
      cfg.lambda = scale ? 0.05f : 1.0f;
      cfg.seed = 4;
      ALS cpu(120, 90, cfg), gpu(120, 90, cfg, Device::cuda(0));
      testing::check_close(gpu.item_factors().cpu(), cpu.item_factors(), 0, 0, "initial item factors");

      const models::ALSData dc = models::als_data(d.observed), dg = models::als_data(d.observed, Device::cuda(0));
      models::NormalEquations nc = models::als_normal_equations(dc.by_user, cpu.item_factors(), cpu.item_bias(),
                                                                dc.mean, cfg.lambda, scale);
      models::NormalEquations ng = models::als_normal_equations(dg.by_user, gpu.item_factors(), gpu.item_bias(),
                                                                dg.mean, cfg.lambda, scale);
      testing::check_close(ng.A.cpu(), nc.A, 1e-4f, 1e-5f, "A");
      testing::check_close(ng.b.cpu(), nc.b, 1e-4f, 1e-5f, "b");

      cpu.fit_sweep(dc);
      gpu.fit_sweep(dg);
      testing::check_close(gpu.user_factors().cpu(), cpu.user_factors(), 1e-3f, 1e-3f, "user factors");
      testing::check_close(gpu.user_bias().cpu(), cpu.user_bias(), 1e-3f, 1e-3f, "user biases");
      testing::check_close(gpu.item_factors().cpu(), cpu.item_factors(), 1e-3f, 1e-3f, "item factors");
      testing::check_close(gpu.item_bias().cpu(), cpu.item_bias(), 1e-3f, 1e-3f, "item biases");
      CHECK(gpu.mean() == cpu.mean());
      Tensor u = d.held_out.users_tensor(), i = d.held_out.items_tensor();
      testing::check_close(gpu.predict(u.to(Device::cuda(0)), i.to(Device::cuda(0))).cpu(), cpu.predict(u, i), 1e-3f,
                           1e-3f, "predictions");
    }
  }

  TEST_CASE("the cuSOLVER batched Cholesky solve matches the LAPACK solve") {
    const int64_t n = 300, dim = 31;
    Tensor m = testing::randn({n, dim, dim}, 31, 0.3f);
    // A = MᵀM + I through the ALS normal equations would need data; build it on the host.
    std::vector<float> mv = m.to_vector<float>(), a(static_cast<size_t>(n * dim * dim));
    for (int64_t s = 0; s < n; ++s)
      for (int64_t i = 0; i < dim; ++i)
        for (int64_t j = 0; j < dim; ++j) {
          float v = i == j ? 1.0f : 0.0f;
          for (int64_t t = 0; t < dim; ++t) v += mv[(s * dim + t) * dim + i] * mv[(s * dim + t) * dim + j];
          a[(s * dim + i) * dim + j] = v;
        }
    Tensor A = Tensor::from_vector(a, {n, dim, dim}), b = testing::randn({n, dim}, 32);
    Tensor xc = models::solve_spd_batched(A, b);
    Tensor xg = models::solve_spd_batched(A.to(Device::cuda(0)), b.to(Device::cuda(0)));
    testing::check_close(xg.cpu(), xc, 1e-4f, 1e-3f, "solutions");
    a[(5 * dim + 3) * dim + 3] = -50.0f;
    CHECK_THROWS_WITH_AS(models::solve_spd_batched(Tensor::from_vector(a, {n, dim, dim}, Device::cuda(0)),
                                                   b.to(Device::cuda(0))),
                         doctest::Contains("the first at row 5"), Error);
  }

  TEST_CASE("ALS on CUDA reaches the CPU's ML-100K figure") {
    CUREC_REQUIRE_DATA(dir, "ml-100k");
    data::Split split = data::split_random(data::read_ml100k(dir), 0.1, 0);
    ALSConfig cfg;
    cfg.sweeps = 5;
    const double c = fit(split, cfg, Device::cpu()).final_test.at("test_rmse");
    const double g = fit(split, cfg, Device::cuda(0)).final_test.at("test_rmse");
    MESSAGE("ML-100K ALS, 5 sweeps: CPU test RMSE " << c << ", CUDA " << g);
    CHECK(g == doctest::Approx(c).epsilon(1e-3));
  }
}
