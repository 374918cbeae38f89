#include <cmath>
#include <vector>

#include "core/autograd.h"
#include "data/split.h"
#include "data/synthetic_ratings.h"
#include "models/autorec.h"
#include "ops/elementwise.h"
#include "ops/loss.h"
#include "ops/reduce.h"
#include "tests/testing.h"
#include "train/tasks/autorec_task.h"
#include "train/trainer.h"
#include "app/recipes.h"

using namespace curec;

namespace {
// Ratings in 1..5 with exact zeros (unrated) at about 40% of the entries.
Tensor sparse_ratings(const Shape& s, uint64_t seed) {
  Tensor t = testing::rand_uniform(s, seed, 1.0f, 5.0f);
  Tensor keep = testing::rand_uniform(s, seed + 1, 0.0f, 1.0f);
  float* pt = t.data<float>();
  const float* pk = keep.data<float>();
  for (int64_t i = 0; i < t.numel(); ++i)
    if (pk[i] < 0.4f) pt[i] = 0.0f;
  return t;
}

models::AutoRecConfig tiny(models::AutoRecKind kind, float init_std = 0.5f) {
  models::AutoRecConfig c;
  c.num_inputs = 6;
  c.hidden = 4;
  c.kind = kind;
  c.init_std = init_std;
  c.empty_row_mean = 3.25f;
  c.seed = 7;
  return c;
}

// dec(σ(enc(x))) computed by hand from the state dict, for one row.
std::vector<float> reference_row(const nn::StateDict& sd, const std::vector<float>& x, int64_t hidden) {
  auto we = sd.at("encoder.weight").to_vector<float>(), be = sd.at("encoder.bias").to_vector<float>();
  auto wd = sd.at("decoder.weight").to_vector<float>(), bd = sd.at("decoder.bias").to_vector<float>();
  size_t n = x.size();
  std::vector<float> h(hidden), out(n);
  for (int64_t k = 0; k < hidden; ++k) {
    double a = be[k];
    for (size_t j = 0; j < n; ++j) a += we[k * n + j] * x[j];
    h[k] = static_cast<float>(1.0 / (1.0 + std::exp(-a)));
  }
  for (size_t j = 0; j < n; ++j) {
    double a = bd[j];
    for (int64_t k = 0; k < hidden; ++k) a += wd[j * hidden + k] * h[k];
    out[j] = static_cast<float>(a);
  }
  return out;
}

double global_mean_rmse(const data::Split& s) {
  double mean = 0, se = 0;
  for (float v : s.train.rating) mean += v;
  mean /= s.train.size();
  for (float v : s.test.rating) se += (v - mean) * (v - mean);
  return std::sqrt(se / s.test.size());
}

data::Split planted_split(uint64_t seed) {
  data::SyntheticRatingsConfig c;
  c.seed = seed;
  c.density = 0.3;
  return data::split_random(data::synthetic_ratings(c), 0.1, seed);
}
}  // namespace

TEST_CASE("autorec: shapes, parameters and the book's init") {
  models::AutoRecConfig c;
  c.num_inputs = 943;
  models::AutoRec m(c);
  CHECK(m.num_parameters() == 943 * 500 + 500 + 500 * 943 + 943);
  auto sd = m.state_dict();
  CHECK(sd.at("encoder.weight").shape() == Shape{500, 943});
  CHECK(sd.at("decoder.weight").shape() == Shape{943, 500});
  // N(0, 0.01²): the sample std of 471,500 draws is within a few percent of 0.01.
  std::vector<float> w = sd.at("encoder.weight").to_vector<float>();
  double s2 = 0;
  for (float v : w) s2 += double(v) * v;
  CHECK(std::sqrt(s2 / w.size()) == doctest::Approx(0.01).epsilon(0.02));
  Tensor out = m.forward(sparse_ratings({3, 943}, 1));
  CHECK(out.shape() == Shape{3, 943});
  CHECK_THROWS_AS(m.forward(sparse_ratings({3, 942}, 1)), Error);
}

TEST_CASE("autorec item-based: eval forward is dec(sigmoid(enc(x)))") {
  models::AutoRec m(tiny(models::AutoRecKind::item_based));
  m.eval();
  Tensor x = sparse_ratings({2, 6}, 3);
  std::vector<float> xv = x.to_vector<float>(), out = m.forward(x).to_vector<float>();
  for (int r = 0; r < 2; ++r) {
    std::vector<float> row(xv.begin() + r * 6, xv.begin() + r * 6 + 6);
    std::vector<float> ref = reference_row(m.state_dict(), row, 4);
    for (int j = 0; j < 6; ++j) CHECK(out[r * 6 + j] == doctest::Approx(ref[j]).epsilon(1e-5));
  }
}

TEST_CASE("autorec user-based: inputs centred on each row's mean over rated entries") {
  models::AutoRec m(tiny(models::AutoRecKind::user_based));
  m.eval();
  std::vector<float> row = {4, 0, 2, 0, 0, 3};  // mean 3 over the three rated items
  Tensor out = m.forward(Tensor::from_vector(row, {1, 6}));
  std::vector<float> ref = reference_row(m.state_dict(), {1, 0, -1, 0, 0, 0}, 4);
  for (int j = 0; j < 6; ++j) CHECK(out.to_vector<float>()[j] == doctest::Approx(ref[j] + 3.0f).epsilon(1e-5));

  // Shifting every rating of a row shifts the whole reconstruction by the same amount.
  std::vector<float> shifted = {5, 0, 3, 0, 0, 4};
  std::vector<float> a = out.to_vector<float>(), b = m.forward(Tensor::from_vector(shifted, {1, 6})).to_vector<float>();
  for (int j = 0; j < 6; ++j) CHECK(b[j] == doctest::Approx(a[j] + 1.0f).epsilon(1e-5));

  // A row without ratings is centred on the configured global mean (no 0/0).
  std::vector<float> e = m.forward(Tensor::zeros({1, 6})).to_vector<float>();
  std::vector<float> ref0 = reference_row(m.state_dict(), std::vector<float>(6, 0.0f), 4);
  for (int j = 0; j < 6; ++j) CHECK(e[j] == doctest::Approx(ref0[j] + 3.25f).epsilon(1e-5));
}

TEST_CASE("autorec: the masked loss takes no gradient from unrated entries") {
  models::AutoRecConfig c = tiny(models::AutoRecKind::item_based, 0.3f);
  c.hidden_dropout = 0.0f;
  models::AutoRec m(c);
  // Column 1 is unrated in every row; the others are rated in some rows.
  std::vector<float> xv = {4, 0, 0, 2, 5, 1,  //
                           0, 0, 3, 0, 1, 2,  //
                           5, 0, 1, 0, 0, 4};
  Tensor x = Tensor::from_vector(xv, {3, 6});
  Tensor pred = m.forward(x);
  Tensor loss = masked_squared_error(pred, x, Tensor(), Reduction::sum) * (1.0f / 3);
  loss.backward();
  std::vector<float> p = pred.to_vector<float>();
  auto named = m.named_parameters();
  Tensor bias_grad;
  for (auto& [name, t] : named)
    if (name == "decoder.bias") bias_grad = t.grad();
  REQUIRE(bias_grad.defined());
  std::vector<float> g = bias_grad.to_vector<float>();
  CHECK(g[1] == 0.0f);
  for (int j = 0; j < 6; ++j) {
    double expect = 0;
    for (int r = 0; r < 3; ++r)
      if (xv[r * 6 + j] != 0) expect += (p[r * 6 + j] - xv[r * 6 + j]) / 3.0;
    CHECK(g[j] == doctest::Approx(expect).epsilon(1e-4));
  }
  // The loss itself: mean over rows of ½ Σ_rated (ŷ − y)².
  double l = 0;
  for (int i = 0; i < 18; ++i)
    if (xv[i] != 0) l += 0.5 * (p[i] - xv[i]) * (p[i] - xv[i]) / 3.0;
  CHECK(loss.item() == doctest::Approx(l).epsilon(1e-5));
}

TEST_CASE("autorec: gradient check through the model (both kinds)") {
  for (auto kind : {models::AutoRecKind::item_based, models::AutoRecKind::user_based}) {
    CAPTURE(models::autorec_kind_name(kind));
    models::AutoRec m(tiny(kind));
    m.eval();  // dropout draws would differ between the perturbed evaluations
    Tensor x = sparse_ratings({3, 6}, 11);
    testing::check_gradients(
        [&](const std::vector<Tensor>&) { return masked_squared_error(m.forward(x), x, Tensor(), Reduction::none); },
        m.parameters());
  }
}

TEST_CASE("autorec: dropout acts only in training") {
  models::AutoRecConfig c = tiny(models::AutoRecKind::item_based);
  c.hidden_dropout = 0.5f;
  models::AutoRec m(c);
  Tensor x = sparse_ratings({4, 6}, 5);
  NoGradGuard ng;
  CHECK(m.forward(x).to_vector<float>() != m.forward(x).to_vector<float>());
  m.eval();
  CHECK(m.forward(x).to_vector<float>() == m.forward(x).to_vector<float>());
}

TEST_CASE("autorec learns planted low-rank ratings far better than the global mean (both kinds)") {
  data::Split s = planted_split(4);
  double baseline = global_mean_rmse(s);
  for (auto kind : {models::AutoRecKind::item_based, models::AutoRecKind::user_based}) {
    CAPTURE(models::autorec_kind_name(kind));
    bool by_item = kind == models::AutoRecKind::item_based;
    models::AutoRecConfig c;
    if (by_item) {
      c.num_inputs = s.train.num_users;
    } else {
      double mean = 0;
      for (float v : s.train.rating) mean += v;
      c = models::AutoRecConfig::user_based(s.train.num_items, static_cast<float>(mean / s.train.size()));
    }
    c.hidden = 100;
    models::AutoRec m(c);
    train::TrainerConfig tc;
    // The item-based model (rows of 200 uncentred ratings) converges more slowly.
    tc.epochs = by_item ? 150 : 60;
    tc.batch_size = 32;
    tc.optimizer = nn::AdamOptions{.lr = by_item ? 0.003f : 0.01f, .weight_decay = 1e-5f};
    train::AutoRecTask task(m, s.train, s.test);
    train::TrainResult r = train::Trainer(task, tc).fit();
    MESSAGE(models::autorec_kind_name(kind), "-based AutoRec on planted ratings: test RMSE ",
            r.final_test.at("test_rmse"), " vs global mean ", baseline);
    CHECK(r.final_test.at("test_rmse") < 0.5 * baseline);
    CHECK(r.history.front().train_loss > r.history.back().train_loss);
  }
}

TEST_CASE("autorec trainer: a batch larger than the rows still trains; a mis-sized model is an error") {
  data::Split s = planted_split(2);
  models::AutoRecConfig c;
  c.num_inputs = s.train.num_users;
  c.hidden = 8;
  models::AutoRec m(c);
  train::TrainerConfig tc;
  tc.epochs = 2;
  train::AutoRecTask task(m, s.train, s.test);
  tc.batch_size = task.batch_of(100000);
  CHECK(tc.batch_size == s.train.num_items);  // item-based: a row per item
  train::TrainResult r = train::Trainer(task, tc).fit();
  CHECK(r.history.size() == 2);
  CHECK(r.examples_per_sec > 0);
  CHECK(std::isfinite(r.final_test.at("test_rmse")));

  models::AutoRecConfig bad = c;
  bad.num_inputs = s.train.num_users + 1;
  models::AutoRec wrong(bad);
  train::AutoRecTask wrong_task(wrong, s.train, s.test);
  CHECK_THROWS_AS(train::Trainer(wrong_task, tc).fit(), Error);
}

TEST_CASE("autorec on MovieLens-100K reaches the book's target (mean test RMSE over five splits <= 0.91)") {
  CUREC_REQUIRE_DATA(dir, "ml-100k");
  // One random 90/10 split moves the RMSE by about ±0.01 (MF too: 0.932 on seed 0, 0.905 on
  // seed 1), so the target is held by the mean over splits 0..4 with the book's settings.
  double total = 0;
  for (uint64_t seed = 0; seed < 5; ++seed) {
    app::RunSettings o;
    o.data = dir;
    o.seed = seed;
    o.verbose = false;
    app::RunResult r = app::AutoRecRecipe().run(o);
    MESSAGE("ML-100K AutoRec seed ", seed, ": test RMSE ", r.metrics["test_rmse"], ", train loss ",
            r.metrics["train_loss"], ", ", r.examples_per_sec, " rows/s, ", r.train_seconds, " s");
    CHECK(r.metrics["test_rmse"] <= 0.925);
    CHECK(r.metrics["test_rmse"] > 0.8);  // a leak from test into train would show as too good
    total += r.metrics["test_rmse"];
  }
  MESSAGE("mean test RMSE over five splits: ", total / 5);
  CHECK(total / 5 <= 0.91);
}

TEST_CASE("user-based autorec (--variant user) on MovieLens-100K beats the global mean by a clear margin") {
  CUREC_REQUIRE_DATA(dir, "ml-100k");
  app::RunSettings o;
  o.data = dir;
  o.verbose = false;
  app::AutoRecRecipe recipe;
  recipe.variant = "user";
  app::RunResult r = recipe.run(o);
  MESSAGE("ML-100K user-based AutoRec: test RMSE ", r.metrics["test_rmse"]);
  CHECK(r.info["variant"] == "user-based");
  CHECK(r.info["examples"] == "user rows");
  // The global mean scores about 1.13 on these splits; the item-based model about 0.91.
  CHECK(r.metrics["test_rmse"] < 0.97);
  CHECK(r.metrics["test_rmse"] > 0.8);
  recipe.variant = "bogus";
  CHECK_THROWS_WITH_AS(recipe.run(o), doctest::Contains("use item or user"), Error);
}

TEST_SUITE("cuda") {
  TEST_CASE("autorec: CPU-vs-CUDA parity of reconstruction, loss and gradients (training mode, both kinds)") {
    for (auto kind : {models::AutoRecKind::item_based, models::AutoRecKind::user_based}) {
      CAPTURE(models::autorec_kind_name(kind));
      models::AutoRecConfig c;
      c.num_inputs = 97;
      c.hidden = 33;
      c.kind = kind;
      c.input_dropout = 0.1f;  // same seed: Philox drops the same elements on both devices
      c.init_std = 0.1f;
      c.empty_row_mean = 3.5f;
      models::AutoRec a(c), b(c);
      b.to(Device::cuda(0));
      Tensor x = sparse_ratings({40, 97}, 9);
      Tensor pa = a.forward(x), pb = b.forward(x.to(Device::cuda(0)));
      testing::check_close(pb, pa, 1e-4f, 1e-4f, "reconstruction");
      Tensor la = masked_squared_error(pa, x, Tensor(), Reduction::sum);
      Tensor lb = masked_squared_error(pb, x.to(Device::cuda(0)), Tensor(), Reduction::sum);
      testing::check_close(lb, la, 1e-3f, 1e-4f, "loss");
      la.backward();
      lb.backward();
      testing::check_grads_close(b, a, 1e-4f, 1e-3f);
    }
  }

  TEST_CASE("autorec trains on CUDA to the same quality as on the CPU") {
    CUREC_REQUIRE_DATA(dir, "ml-100k");
    if (testing::emulated_gpu()) {
      // An epoch of ML-100K takes seconds on the emulated device, five seeds of the book's 25
      // epochs far too long for CI: one seed, 8 epochs, evaluated once at the end. The CPU
      // reaches about 0.98 there (the global mean about 1.13; one epoch 1.5, early epochs
      // swing up and down), and CUDA follows it.
      testing::note_shrunk_under_emulation(
          "autorec on ML-100K with seed 0 only, 8 epochs (the book: 25, seeds 0..4), test RMSE <= 1.03 and "
          "within 5e-3 of the CPU run of the same");
      app::RunSettings o;
      o.data = dir;
      o.verbose = false;
      app::AutoRecRecipe recipe;
      recipe.train.epochs = 8;
      recipe.train.eval_every = 0;
      app::RunResult cpu = recipe.run(o);
      o.device = Device::cuda(0);
      app::RunResult gpu = recipe.run(o);
      MESSAGE("ML-100K AutoRec, 8 epochs: test RMSE ", gpu.metrics["test_rmse"], " on CUDA, ",
              cpu.metrics["test_rmse"], " on the CPU, ", gpu.examples_per_sec, " rows/s on CUDA");
      CHECK(gpu.metrics["test_rmse"] <= 1.03);
      CHECK(std::fabs(gpu.metrics["test_rmse"] - cpu.metrics["test_rmse"]) <= 5e-3);
      return;
    }
    double total = 0;
    for (uint64_t seed = 0; seed < 5; ++seed) {
      app::RunSettings o;
      o.data = dir;
      o.seed = seed;
      o.device = Device::cuda(0);
      o.verbose = false;
      app::RunResult r = app::AutoRecRecipe().run(o);
      MESSAGE("ML-100K AutoRec on CUDA seed ", seed, ": test RMSE ", r.metrics["test_rmse"], ", ",
              r.examples_per_sec, " rows/s");
      CHECK(r.metrics["test_rmse"] <= 0.925);
      total += r.metrics["test_rmse"];
    }
    CHECK(total / 5 <= 0.91);
  }
}
