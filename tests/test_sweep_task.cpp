// ALS and BPMF through the one Trainer (train/tasks/sweep_task.h): an epoch is a sweep, and the
// engine's checkpoints resume them bit for bit, its interruption names the sweep, and the run is
// the model's own sweeps called one after another.
#include <string>

#include "data/split.h"
#include "data/synthetic_ratings.h"
#include "models/als.h"
#include "models/bpmf.h"
#include "tests/testing.h"
#include "train/tasks/sweep_task.h"
#include "train/trainer.h"

using namespace curec;

namespace {

data::Split ratings() {
  data::SyntheticRatingsConfig sc;
  sc.num_users = 40;
  sc.num_items = 30;
  sc.density = 0.3;
  return data::split_random(data::synthetic_ratings(sc), 0.1, 1);
}

train::TrainerConfig sweeps(int n, const std::string& checkpoint = "", const std::string& resume = "") {
  train::TrainerConfig c;
  c.epochs = n;
  c.batch_size = 1;
  c.checkpoint = checkpoint;
  c.resume = resume;
  return c;
}

models::ALSConfig als_config() {
  models::ALSConfig cfg;
  cfg.factors = 3;
  cfg.sweeps = 4;
  return cfg;
}

// An ALS run of `n` sweeps through the trainer: its result and the model's state.
std::pair<train::TrainResult, nn::StateDict> fit_als(const data::Split& s, int n, const std::string& checkpoint = "",
                                                     const std::string& resume = "") {
  models::ALS als(s.train.num_users, s.train.num_items, als_config());
  models::ALSSweeps model(als, s.train, s.test);
  train::SweepTask task(model);
  train::TrainResult r = train::Trainer(task, sweeps(n, checkpoint, resume)).fit();
  return {r, als.state_dict()};
}

void check_same_state(const nn::StateDict& a, const nn::StateDict& b) {
  REQUIRE(a.size() == b.size());
  for (const auto& [k, v] : a) {
    if (v.dtype() == DType::i64)
      CHECK(v.to_vector<int64_t>() == b.at(k).to_vector<int64_t>());
    else
      testing::check_close(v, b.at(k), 0, 0, k);
  }
}

}  // namespace

TEST_CASE("ALS through the trainer: an epoch is a sweep, the model's sweeps bit for bit") {
  data::Split s = ratings();
  auto [r, state] = fit_als(s, 4);
  // The same four sweeps called by hand, each followed by its RMSEs.
  models::ALS straight(s.train.num_users, s.train.num_items, als_config());
  const models::ALSData d = models::als_data(s.train);
  REQUIRE(r.history.size() == 4);
  for (size_t e = 0; e < 4; ++e) {
    straight.fit_sweep(d);
    CHECK(r.history[e].epoch == static_cast<int>(e) + 1);
    CHECK(r.history[e].evaluated);
    CHECK(r.history[e].test.at("test_rmse") == models::als_rmse(straight, s.test));
    // The training RMSE stands in for the loss (a float on the device, as every loss).
    CHECK(r.history[e].train_loss == doctest::Approx(models::als_rmse(straight, s.train)).epsilon(1e-6));
  }
  CHECK(r.final_test.at("test_rmse") == models::als_rmse(straight, s.test));
  check_same_state(state, straight.state_dict());
}

TEST_CASE("ALS and BPMF resume from the trainer's checkpoint bit for bit, counted in sweeps") {
  data::Split s = ratings();
  testing::TempDir dir;  // removed with what it holds
  const std::string ck = dir.file("als.ckpt");
  auto [straight, straight_state] = fit_als(s, 4);
  fit_als(s, 2, ck);
  auto [resumed, resumed_state] = fit_als(s, 4, "", ck);
  CHECK(resumed.resumed_from == 2);
  REQUIRE(resumed.history.size() == 4);
  for (size_t e = 0; e < 4; ++e) {
    CHECK(resumed.history[e].train_loss == straight.history[e].train_loss);
    CHECK(resumed.history[e].test == straight.history[e].test);
  }
  check_same_state(resumed_state, straight_state);
  CHECK(testing::error_of([&] { fit_als(s, 2, "", ck); }).find("has already trained 2 sweeps") != std::string::npos);

  models::BPMFConfig cfg;
  cfg.factors = 3;
  cfg.burn_in = 2;
  cfg.samples = 3;
  auto bpmf = [&](int n, const std::string& checkpoint, const std::string& resume) {
    models::BPMFSampler sampler(s.train, s.test, cfg);
    train::SweepTask task(sampler);
    train::TrainResult r = train::Trainer(task, sweeps(n, checkpoint, resume)).fit();
    return std::make_pair(r, sampler.state_dict());
  };
  auto [b_straight, b_state] = bpmf(5, "", "");
  models::BPMFSampler by_hand(s.train, s.test, cfg);
  for (int sweep = 1; sweep <= 5; ++sweep) by_hand.sweep(sweep);
  CHECK(b_straight.final_test.at("test_rmse") == by_hand.posterior_rmse());
  CHECK(b_straight.history.back().train_loss == doctest::Approx(by_hand.sample_rmse()).epsilon(1e-6));
  bpmf(3, ck, "");  // after two burn-in sweeps and one kept sample
  auto [b_resumed, b_resumed_state] = bpmf(5, "", ck);
  for (size_t e = 0; e < 5; ++e) CHECK(b_resumed.history[e].test == b_straight.history[e].test);
  check_same_state(b_resumed_state, b_state);
}

TEST_CASE("a sweep run stops after the sweep it was interrupted in, saying so") {
  data::Split s = ratings();
  models::ALS als(s.train.num_users, s.train.num_items, als_config());
  models::ALSSweeps model(als, s.train, s.test);
  train::SweepTask task(model);
  train::TrainerHooks h;
  int sweeps_seen = 0;
  h.on_step = [&](int, int64_t, int64_t, int64_t) { ++sweeps_seen; };
  h.should_stop = [&] { return sweeps_seen == 2; };
  const std::string e = testing::error_of([&] { train::Trainer(task, sweeps(4), h).fit(); });
  CHECK(e.find("als: interrupted after sweep 2") != std::string::npos);
  // A sweep model on several ranks: every rank sweeps whole (no batch to cut), with no gradient hooks.
  train::TrainerConfig two = sweeps(1);
  two.sharding = {1, 2};
  train::TrainerHooks g;
  g.after_backward = [](const train::StepContext&, double) { FAIL("a sweep has no gradients to exchange"); };
  models::ALS als2(s.train.num_users, s.train.num_items, als_config());
  models::ALSSweeps model2(als2, s.train, s.test);
  train::SweepTask task2(model2);
  CHECK(train::Trainer(task2, two, g).fit().history.size() == 1);
}
