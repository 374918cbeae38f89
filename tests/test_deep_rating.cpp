#include <algorithm>
#include <cmath>
#include <vector>

#include "core/autograd.h"
#include "data/split.h"
#include "data/synthetic_ratings.h"
#include "models/deep_rating.h"
#include "ops/elementwise.h"
#include "ops/reduce.h"
#include "tests/testing.h"
#include "app/recipes.h"
#include "train/tasks/rating_task.h"
#include "train/trainer.h"

using namespace curec;

namespace {
models::DeepRatingConfig tiny() {
  models::DeepRatingConfig c;
  c.num_users = 5;
  c.num_items = 6;
  c.factors = 3;
  c.hidden = 4;
  c.global_mean = 3.5f;
  c.init_std = 0.5f;
  return c;
}

// w2 · relu(W1 [p; q] + b1) + b2 by hand, from the state dict.
double reference_mlp(const nn::StateDict& sd, int u, int i, int64_t k, int64_t hidden) {
  auto P = sd.at("user_factors.weight").to_vector<float>(), Q = sd.at("item_factors.weight").to_vector<float>();
  auto w1 = sd.at("mlp.0.weight").to_vector<float>(), b1 = sd.at("mlp.0.bias").to_vector<float>();
  auto w2 = sd.at("mlp.2.weight").to_vector<float>(), b2 = sd.at("mlp.2.bias").to_vector<float>();
  std::vector<double> in;
  for (int64_t j = 0; j < k; ++j) in.push_back(P[u * k + j]);
  for (int64_t j = 0; j < k; ++j) in.push_back(Q[i * k + j]);
  double out = b2[0];
  for (int64_t h = 0; h < hidden; ++h) {
    double a = b1[h];
    for (int64_t j = 0; j < 2 * k; ++j) a += w1[h * 2 * k + j] * in[j];
    out += w2[h] * std::max(a, 0.0);
  }
  return out;
}

struct Planted {
  data::Split split;
  double mean = 0, baseline = 0;  // training mean and its test RMSE
};
Planted planted(uint64_t seed) {
  data::SyntheticRatingsConfig c;
  c.seed = seed;
  c.density = 0.3;
  Planted p{data::split_random(data::synthetic_ratings(c), 0.1, seed)};
  for (float v : p.split.train.rating) p.mean += v;
  p.mean /= p.split.train.size();
  double se = 0;
  for (float v : p.split.test.rating) se += (v - p.mean) * (v - p.mean);
  p.baseline = std::sqrt(se / p.split.test.size());
  return p;
}

template <class Net>
double train_planted(const Planted& p, int64_t factors) {
  models::DeepRatingConfig c;
  c.num_users = p.split.train.num_users;
  c.num_items = p.split.train.num_items;
  c.factors = factors;
  c.global_mean = static_cast<float>(p.mean);
  Generator gen(1);
  Net net(c, gen);
  train::TrainerConfig tc;
  tc.epochs = 30;
  tc.batch_size = 128;
  tc.optimizer = nn::SgdOptions{.lr = 0.05f, .momentum = 0.9f};
  train::RatingTask task(net, p.split.train, p.split.test);
  train::TrainResult r = train::Trainer(task, tc).fit();
  CHECK(r.history.front().train_loss > r.history.back().train_loss);
  return r.final_test.at("test_rmse");
}
}  // namespace

TEST_CASE("deep rating net predicts mu + MLP([p_u; q_i])") {
  models::DeepRatingNet m(tiny());
  CHECK(m.num_parameters() == 5 * 3 + 6 * 3 + (6 * 4 + 4) + (4 + 1));
  Tensor u = Tensor::from_vector<int32_t>({0, 4, 2}, {3}), i = Tensor::from_vector<int32_t>({5, 1, 2}, {3});
  std::vector<float> pred = m.predict(u, i).to_vector<float>();
  REQUIRE(pred.size() == 3);
  auto sd = m.state_dict();
  CHECK(pred[0] == doctest::Approx(3.5 + reference_mlp(sd, 0, 5, 3, 4)).epsilon(1e-5));
  CHECK(pred[1] == doctest::Approx(3.5 + reference_mlp(sd, 4, 1, 3, 4)).epsilon(1e-5));
  CHECK(pred[2] == doctest::Approx(3.5 + reference_mlp(sd, 2, 2, 3, 4)).epsilon(1e-5));
}

TEST_CASE("residual rating net predicts mu + p_u . q_i + b_u + b_i + MLP([p_u; q_i])") {
  models::ResidualRatingNet m(tiny());
  CHECK(m.num_parameters() == 5 * 3 + 6 * 3 + 5 + 6 + (6 * 4 + 4) + (4 + 1));
  Tensor u = Tensor::from_vector<int32_t>({1, 3}, {2}), i = Tensor::from_vector<int32_t>({0, 4}, {2});
  std::vector<float> pred = m.predict(u, i).to_vector<float>();
  auto sd = m.state_dict();
  auto P = sd.at("user_factors.weight").to_vector<float>(), Q = sd.at("item_factors.weight").to_vector<float>();
  auto bu = sd.at("user_bias.weight").to_vector<float>(), bi = sd.at("item_bias.weight").to_vector<float>();
  int us[] = {1, 3}, is[] = {0, 4};
  for (int r = 0; r < 2; ++r) {
    double dot = 0;
    for (int j = 0; j < 3; ++j) dot += P[us[r] * 3 + j] * Q[is[r] * 3 + j];
    double expect = 3.5 + dot + bu[us[r]] + bi[is[r]] + reference_mlp(sd, us[r], is[r], 3, 4);
    CHECK(pred[r] == doctest::Approx(expect).epsilon(1e-5));
  }
}

TEST_CASE("deep and residual rating nets: gradient check through the model") {
  Tensor u = Tensor::from_vector<int32_t>({0, 4, 4, 1, 2}, {5}), i = Tensor::from_vector<int32_t>({5, 0, 5, 2, 3}, {5});
  // Seeds whose ReLU inputs all sit further than the finite-difference step from the kink.
  Generator g1(11), g2(12);
  models::DeepRatingNet deep(tiny(), g1);
  testing::check_gradients([&](const std::vector<Tensor>&) { return deep.predict(u, i); }, deep.parameters());
  models::ResidualRatingNet res(tiny(), g2);
  testing::check_gradients([&](const std::vector<Tensor>&) { return res.predict(u, i); }, res.parameters());
}

TEST_CASE("deep and residual rating nets learn planted ratings far better than the global mean") {
  Planted p = planted(3);
  double deep = train_planted<models::DeepRatingNet>(p, 16);
  double res = train_planted<models::ResidualRatingNet>(p, 16);
  MESSAGE("planted ratings: deep ", deep, ", residual ", res, " vs global mean ", p.baseline);
  CHECK(deep < 0.6 * p.baseline);
  CHECK(res < 0.6 * p.baseline);
}

TEST_CASE("deep and residual rating nets on MovieLens-100K beat the global mean by at least 0.15") {
  CUREC_REQUIRE_DATA(dir, "ml-100k");
  for (bool residual : {false, true}) {
    app::RunSettings o;
    o.data = dir;
    o.verbose = false;
    app::RunResult r = app::RatingNetRecipe(residual).run(o);
    MESSAGE("ML-100K ", r.model, ": test RMSE ", r.metrics["test_rmse"], " vs global mean ",
            r.metrics["global_mean_rmse"], ", ", r.examples_per_sec, " examples/s, ", r.train_seconds, " s");
    CHECK(r.metrics["test_rmse"] <= 0.96);
    CHECK(r.metrics["test_rmse"] <= r.metrics["global_mean_rmse"] - 0.15);
    CHECK(r.metrics["test_rmse"] > 0.8);  // a leak from test into train would show as too good
  }
}

TEST_SUITE("cuda") {
  TEST_CASE("deep and residual rating nets: CPU-vs-CUDA parity of predictions and gradients") {
    models::DeepRatingConfig c;
    c.num_users = 50;
    c.num_items = 70;
    c.factors = 8;
    c.hidden = 40;
    c.global_mean = 3.5f;
    c.init_std = 0.3f;
    Tensor u = testing::randint({300}, 50, 4, DType::i32), i = testing::randint({300}, 70, 5, DType::i32);
    auto check = [&](models::RatingModel& a, models::RatingModel& b) {
      b.to(Device::cuda(0));
      Tensor pa = a.predict(u, i), pb = b.predict(u.to(Device::cuda(0)), i.to(Device::cuda(0)));
      testing::check_close(pb, pa, 1e-4f, 1e-4f, a.name() + " predictions");
      sum(pa * pa).backward();
      sum(pb * pb).backward();
      testing::check_grads_close(b, a, 1e-3f, 1e-3f, a.name());
    };
    Generator g1(1), g2(1), g3(2), g4(2);
    models::DeepRatingNet da(c, g1), db(c, g2);
    check(da, db);
    models::ResidualRatingNet ra(c, g3), rb(c, g4);
    check(ra, rb);
  }

  TEST_CASE("deep and residual rating nets train on CUDA to the same quality as on the CPU") {
    CUREC_REQUIRE_DATA(dir, "ml-100k");
    if (testing::emulated_gpu()) {
      // The MLP's 400 hidden units make an epoch of ML-100K about 20 s on the emulated device,
      // the recipe's 10 epochs of both nets far too long for CI: 50 hidden units, 2 epochs. The
      // CPU reaches about 0.98 there for both nets (the global mean about 1.13), and CUDA follows it.
      testing::note_shrunk_under_emulation(
          "deep and residual rating nets on ML-100K with 50 hidden units for 2 epochs (the recipe: 400, 10), "
          "test RMSE at least 0.1 below the global mean's and within 2e-3 of the CPU run of the same");
      for (bool residual : {false, true}) {
        app::RunSettings o;
        o.data = dir;
        o.verbose = false;
        app::RatingNetRecipe recipe(residual);
        recipe.model.hidden = 50;
        recipe.train.epochs = 2;
        app::RunResult cpu = recipe.run(o);
        o.device = Device::cuda(0);
        app::RunResult gpu = recipe.run(o);
        MESSAGE("ML-100K ", gpu.model, ", hidden 50, 2 epochs: test RMSE ", gpu.metrics["test_rmse"], " on CUDA, ",
                cpu.metrics["test_rmse"], " on the CPU, global mean ", gpu.metrics["global_mean_rmse"]);
        CHECK(gpu.metrics["test_rmse"] <= gpu.metrics["global_mean_rmse"] - 0.1);
        CHECK(std::fabs(gpu.metrics["test_rmse"] - cpu.metrics["test_rmse"]) <= 2e-3);
      }
      return;
    }
    for (bool residual : {false, true}) {
      app::RunSettings o;
      o.data = dir;
      o.device = Device::cuda(0);
      o.verbose = false;
      app::RunResult r = app::RatingNetRecipe(residual).run(o);
      MESSAGE("ML-100K ", r.model, " on CUDA: test RMSE ", r.metrics["test_rmse"], ", ", r.examples_per_sec,
              " examples/s");
      CHECK(r.metrics["test_rmse"] <= 0.96);
      CHECK(r.metrics["test_rmse"] <= r.metrics["global_mean_rmse"] - 0.15);
    }
  }
}
