// N in-process ranks train the same model as one rank with the same global batch, for every
// book model (negatives and dropout keyed by the example's place in the global batch), with an
// uneven last batch: parameters equal within PyTorch's DDP test tolerance (rtol 1.3e-6, atol 1e-5).
#include <algorithm>
#include <cmath>
#include <map>
#include <string>

#include "app/data_parallel.h"
#include "app/recipes.h"
#include "tests/testing.h"

using namespace curec;

namespace {

// A recipe of `model` with a short schedule and a batch that leaves an uneven remainder.
std::unique_ptr<app::Recipe> short_recipe(const std::string& model) {
  std::unique_ptr<app::Recipe> r = app::find_experiment(model).recipe();
  auto shorten = [](train::TrainerConfig& c, int64_t batch) {
    c.epochs = 2;
    c.batch_size = batch;
  };
  if (auto* m = dynamic_cast<app::MfRecipe*>(r.get())) shorten(m->train, 301);
  if (auto* a = dynamic_cast<app::AutoRecRecipe*>(r.get())) {
    shorten(a->train, 37);
    a->hidden = 32;
  }
  // With Adam, NeuMF's and Caser's towers (init N(0, 0.01²)) get gradients so small that the
  // ranks' other summation order (1e-7 relative) moves Adam's normalised step by up to 1e-4
  // within two epochs; SGD shows the exchange itself is exact to the tolerance.
  if (auto* k = dynamic_cast<app::RankingRecipe*>(r.get())) {
    shorten(k->train, 203);
    k->train.optimizer = nn::SgdOptions{.lr = 0.05f};
  }
  if (auto* c = dynamic_cast<app::CtrRecipe*>(r.get())) shorten(c->train, 509);
  return r;
}

app::RunResult run_on(const std::string& model, int world_size) {
  app::RunSettings s;
  s.data = "synthetic";
  s.seed = 3;
  s.verbose = false;
  app::ParallelPlan plan;
  plan.world_size = world_size;
  std::unique_ptr<app::Recipe> recipe = short_recipe(model);
  app::RunResult r = app::run_parallel(*recipe, s, plan);
  REQUIRE(r.trained);
  return r;
}

nn::StateDict train_on(const std::string& model, int world_size) { return run_on(model, world_size).trained->state_dict(); }
std::map<std::string, double> metrics_on(const std::string& model, int world_size) {
  return run_on(model, world_size).metrics;
}

}  // namespace

TEST_CASE("data parallel: the ranks share the evaluation and report one rank's metrics") {
  // Each rank scores its share of the test pairs, rows or users (train::EvalPlan: ranking sums
  // per user range for NeuMF and Caser); the parts
  // are all-gathered. The parameters agree to 1e-5 (above), so the metrics agree closely.
  for (const std::string model : {"mf", "autorec", "fm", "deepfm", "neumf", "caser"}) {
    std::map<std::string, double> one = metrics_on(model, 1);
    for (int n : {2, 3}) {
      std::map<std::string, double> many = metrics_on(model, n);
      for (const auto& entry : one) {  // not a structured binding: INFO's lambda captures it (clang 14)
        const std::string& name = entry.first;
        const double v = entry.second;
        if (name == "train_loss" || name == "loss") continue;
        INFO(model << " with " << n << " ranks: " << name);
        REQUIRE(many.count(name));
        CHECK(std::fabs(many.at(name) - v) <= 1e-4 * std::max(1.0, std::fabs(v)));
      }
    }
  }
}

TEST_CASE("data parallel: 2 and 3 in-process ranks train every book model as one rank does") {
  for (const std::string model : {"mf", "autorec", "neumf", "caser", "fm", "deepfm"}) {
    nn::StateDict one = train_on(model, 1);
    for (int n : {2, 3}) {
      nn::StateDict many = train_on(model, n);
      REQUIRE(many.size() == one.size());
      for (const auto& [name, t] : one)
        testing::check_close(many.at(name), t, 1e-5f, 1.3e-6f, model + " with " + std::to_string(n) + " ranks: " + name);
    }
  }
}

TEST_CASE("data parallel: the shards differ, so the check above can fail") {
  // One rank on a different seed trains other parameters: the comparison is not vacuous.
  app::RunSettings s;
  s.data = "synthetic";
  s.verbose = false;
  std::unique_ptr<app::Recipe> a = short_recipe("mf"), b = short_recipe("mf");
  nn::StateDict x = a->run(s).trained->state_dict();
  s.seed = 9;
  nn::StateDict y = b->run(s).trained->state_dict();
  std::vector<float> u = x.at("user_factors.weight").to_vector<float>(), v = y.at("user_factors.weight").to_vector<float>();
  double largest = 0;
  for (size_t i = 0; i < u.size(); ++i) largest = std::max(largest, static_cast<double>(std::fabs(u[i] - v[i])));
  CHECK(largest > 1e-3);
}

TEST_CASE("a recipe's own seed or device is refused, not silently replaced: RunSettings owns them") {
  app::RunSettings s;
  s.data = "synthetic";
  s.verbose = false;
  app::MfRecipe recipe;
  recipe.train.seed = 5;
  CHECK(testing::error_of([&] { recipe.run(s); }).find("set them in RunSettings") != std::string::npos);
}

TEST_CASE("in_process_world_size: --world-size against the launch") {
  dist::LaunchInfo one;
  CHECK(app::in_process_world_size(one, 0, false) == 1);
  CHECK(app::in_process_world_size(one, 3, true) == 3);
  CHECK(testing::error_of([&] { app::in_process_world_size(one, 0, true); }).find("--world-size 0 is not a number of ranks") !=
        std::string::npos);
  dist::LaunchInfo two;
  two.how = dist::Launcher::mpirun;
  two.world_size = 2;
  CHECK(app::in_process_world_size(two, 1, true) == 1);
  std::string e = testing::error_of([&] { app::in_process_world_size(two, 2, true); });
  CHECK(e.find("--world-size 2 under mpirun, which started 2 processes") != std::string::npos);
  CHECK(e.find("drop --world-size") != std::string::npos);
}
