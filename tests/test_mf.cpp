#include <cmath>
#include <filesystem>

#include "core/autograd.h"
#include "data/movielens.h"
#include "data/split.h"
#include "data/synthetic_ratings.h"
#include "models/mf.h"
#include "nn/serialize.h"
#include "ops/reduce.h"
#include "tests/testing.h"
#include "app/recipes.h"
#include "train/metrics.h"
#include "train/tasks/rating_task.h"
#include "train/trainer.h"

using namespace curec;

namespace {
data::Interactions planted(uint64_t seed) {
  data::SyntheticRatingsConfig c;
  c.seed = seed;
  c.density = 0.3;  // ~18,000 ratings of a rank-4 matrix: enough to pin the factors down
  return data::synthetic_ratings(c);
}
}  // namespace

TEST_CASE("mf predicts p_u . q_i + b_u + b_i") {
  models::MFConfig c{3, 4, 2};
  models::MatrixFactorization m(c);
  nn::StateDict sd = m.state_dict();
  Tensor u = Tensor::from_vector<int32_t>({0, 2}, {2}), i = Tensor::from_vector<int32_t>({3, 1}, {2});
  std::vector<float> pred = m.predict(u, i).to_vector<float>();
  auto P = sd.at("user_factors.weight").to_vector<float>(), Q = sd.at("item_factors.weight").to_vector<float>();
  auto bu = sd.at("user_bias.weight").to_vector<float>(), bi = sd.at("item_bias.weight").to_vector<float>();
  CHECK(pred[0] == doctest::Approx(P[0] * Q[6] + P[1] * Q[7] + bu[0] + bi[3]));
  CHECK(pred[1] == doctest::Approx(P[4] * Q[2] + P[5] * Q[3] + bu[2] + bi[1]));
  CHECK(m.num_parameters() == 3 * 2 + 4 * 2 + 3 + 4);
}

TEST_CASE("mf: gradient check through the model") {
  models::MFConfig c{5, 6, 3, 0.5f};
  models::MatrixFactorization m(c);
  Tensor u = Tensor::from_vector<int32_t>({0, 4, 4, 1}, {4}), i = Tensor::from_vector<int32_t>({5, 0, 5, 2}, {4});
  std::vector<Tensor> params = m.parameters();
  testing::check_gradients([&](const std::vector<Tensor>&) { return m.predict(u, i); }, params);
}

TEST_CASE("mf learns planted low-rank ratings far better than the global mean") {
  data::Interactions d = planted(3);
  data::Split s = data::split_random(d, 0.1, 3);
  models::MatrixFactorization m(models::MFConfig{d.num_users, d.num_items, 4});
  train::TrainerConfig tc;
  tc.epochs = 30;
  tc.batch_size = 128;
  tc.optimizer = nn::AdamOptions{.lr = 0.02f, .weight_decay = 1e-5f};
  train::RatingTask task(m, s.train, s.test);
  train::TrainResult r = train::Trainer(task, tc).fit();
  double mean = 0;
  for (float v : s.train.rating) mean += v;
  mean /= s.train.size();
  double se = 0;
  for (float v : s.test.rating) se += (v - mean) * (v - mean);
  double baseline = std::sqrt(se / s.test.size());
  MESSAGE("planted MF test RMSE ", r.final_test.at("test_rmse"), " vs global mean ", baseline);
  CHECK(r.final_test.at("test_rmse") < 0.5 * baseline);
  CHECK(r.history.front().train_loss > r.history.back().train_loss);
}

TEST_CASE("mf on MovieLens-100K reaches the book's target (test RMSE <= 0.95)") {
  CUREC_REQUIRE_DATA(dir, "ml-100k");
  app::RunSettings o;
  o.data = dir;
  o.verbose = false;
  app::RunResult r = app::MfRecipe().run(o);
  MESSAGE("ML-100K MF: test RMSE ", r.metrics["test_rmse"], ", train loss ", r.metrics["train_loss"], ", ",
          r.examples_per_sec, " examples/s");
  CHECK(r.metrics["test_rmse"] <= 0.95);
  CHECK(r.metrics["test_rmse"] > 0.5);  // a leak from test into train would show as too good
}

TEST_CASE("a saved mf model predicts the same after loading") {
  data::Interactions d = planted(5);
  std::string path = (std::filesystem::temp_directory_path() / "curec-test-mf.curec").string();
  app::RunSettings o;
  o.data = "synthetic";
  o.save = path;
  o.verbose = false;
  app::MfRecipe recipe;
  recipe.train.epochs = 1;
  app::RunResult r = recipe.run(o);
  auto& trained = dynamic_cast<models::MatrixFactorization&>(*r.trained);
  nn::LoadedState st = nn::load_state(path);
  CHECK(st.meta.at("model") == "mf");
  models::MatrixFactorization loaded(trained.config());
  loaded.load_state_dict(st.tensors);
  Tensor u = Tensor::from_vector<int32_t>({0, 1, 2}, {3}), i = Tensor::from_vector<int32_t>({3, 2, 1}, {3});
  NoGradGuard ng;
  CHECK(loaded.predict(u, i).to_vector<float>() == trained.predict(u, i).to_vector<float>());
}

TEST_SUITE("cuda") {
  TEST_CASE("mf: CPU-vs-CUDA parity of predictions and gradients") {
    models::MFConfig c{50, 70, 8, 0.3f};
    Generator g1(1), g2(1);
    models::MatrixFactorization a(c, g1), b(c, g2);
    b.to(Device::cuda(0));
    Tensor u = testing::randint({300}, 50, 4, DType::i32), i = testing::randint({300}, 70, 5, DType::i32);
    Tensor pa = a.predict(u, i), pb = b.predict(u.to(Device::cuda(0)), i.to(Device::cuda(0)));
    testing::check_close(pb, pa, 1e-5f, 1e-5f, "predictions");
    sum(pa).backward();
    sum(pb).backward();
    testing::check_grads_close(b, a, 1e-5f, 1e-5f);
  }

  TEST_CASE("mf trains on CUDA to the same quality as on the CPU") {
    CUREC_REQUIRE_DATA(dir, "ml-100k");
    app::RunSettings o;
    o.data = dir;
    o.verbose = false;
    if (testing::emulated_gpu()) {
      // An epoch of ML-100K takes seconds on the emulated device, the book's 20 too long for CI:
      // 3 epochs at lr 0.01 reach about 0.97 (the global mean scores about 1.13, one epoch of
      // the book's lr about 1.86), on both devices alike.
      testing::note_shrunk_under_emulation(
          "mf on ML-100K for 3 epochs at lr 0.01 (the book: 20 at 0.002), test RMSE <= 1.0 and within 2e-3 of "
          "the CPU run of the same");
      app::MfRecipe recipe;
      recipe.train.epochs = 3;
      nn::learning_rate(recipe.train.optimizer) = 0.01f;
      app::RunResult cpu = recipe.run(o);
      o.device = Device::cuda(0);
      app::RunResult gpu = recipe.run(o);
      MESSAGE("ML-100K MF, 3 epochs: test RMSE ", gpu.metrics["test_rmse"], " on CUDA, ", cpu.metrics["test_rmse"],
              " on the CPU");
      CHECK(gpu.metrics["test_rmse"] <= 1.0);
      CHECK(std::fabs(gpu.metrics["test_rmse"] - cpu.metrics["test_rmse"]) <= 2e-3);
      return;
    }
    o.device = Device::cuda(0);
    app::RunResult r = app::MfRecipe().run(o);
    MESSAGE("ML-100K MF on CUDA: test RMSE ", r.metrics["test_rmse"], ", ", r.examples_per_sec, " examples/s");
    CHECK(r.metrics["test_rmse"] <= 0.95);
  }
}

TEST_CASE("check_not_diverged: a non-finite epoch loss is an error naming the model, the epoch and the fix") {
  CHECK_NOTHROW(train::check_not_diverged(0.5, 1, "mf"));
  std::string e = testing::error_of([] { train::check_not_diverged(std::nan(""), 3, "mf"); });
  CHECK(e.find("mf training diverged: epoch 3") != std::string::npos);
  CHECK(e.find("lower the learning rate") != std::string::npos);
  CHECK(!testing::error_of([] { train::check_not_diverged(INFINITY, 1, "autorec"); }).empty());
}
