// ALS across data-parallel ranks: each rank solves its rows of each half-sweep and the factor
// tables are all-gathered. A row's solve does not depend on the partition, so 2 and 3 ranks
// train the one-rank model bit for bit, through the library (the trainer running ALSSweeps with
// an ALSExchange over dist::LocalRanks) and through the recipe (app::run_parallel), and a
// checkpoint of a 2-rank run resumes on one rank.
#include <algorithm>
#include <atomic>
#include <string>
#include <vector>

#include "app/data_parallel.h"
#include "app/recipes.h"
#include "data/split.h"
#include "data/synthetic_ratings.h"
#include "models/als.h"
#include "tests/testing.h"
#include "train/distributed/local_ranks.h"
#include "train/tasks/sweep_task.h"
#include "train/trainer.h"

using namespace curec;

namespace {

data::Split small_split(int32_t users, int32_t items, double density, uint64_t seed) {
  data::SyntheticRatingsConfig sc;
  sc.num_users = users;
  sc.num_items = items;
  sc.density = density;
  sc.seed = seed;
  return data::split_random(data::synthetic_ratings(sc), 0.2, seed);
}

// cfg.sweeps of ALS through the trainer (an epoch a sweep) as rank `x.rank` of `x.world`;
// `model` holds the trained model.
train::TrainResult fit(const data::Split& split, const models::ALSConfig& cfg, models::ALS& model,
                       const models::ALSExchange& x = {}) {
  models::ALSSweeps sweeps(model, split.train, split.test, x);
  train::SweepTask task(sweeps);
  train::TrainerConfig tc;
  tc.epochs = cfg.sweeps;
  tc.batch_size = 1;
  tc.sharding = {x.rank, x.world};
  return train::Trainer(task, tc).fit();
}

struct RankRun {
  train::TrainResult result;
  nn::StateDict state;  // on the CPU
  std::vector<int64_t> user_rows, item_rows;  // the rows this rank gave each gather of sweep 1
};

// cfg.sweeps of ALS on `world` in-process ranks; every rank's outcome. Each gather records how
// many rows this rank solved, so the test sees that the work was split.
std::vector<RankRun> run_als(const data::Split& split, const models::ALSConfig& cfg, int world) {
  std::vector<RankRun> runs(static_cast<size_t>(world));
  dist::LocalRanks(world).run([&](dist::Communicator& comm) {
    RankRun& mine = runs[static_cast<size_t>(comm.rank())];
    models::ALSExchange x;
    x.rank = comm.rank();
    x.world = comm.world_size();
    int calls = 0;
    x.gather = [&](const Tensor& rows, const std::vector<int64_t>& counts) {
      if (calls < 2) (calls++ == 0 ? mine.user_rows : mine.item_rows) = counts;
      return comm.all_gather_v(rows, counts).data;
    };
    models::ALS model(split.train.num_users, split.train.num_items, cfg);
    mine.result = fit(split, cfg, model, x);
    for (const auto& [name, t] : model.state_dict()) mine.state[name] = t.cpu();
  });
  return runs;
}

nn::StateDict run_one(const data::Split& split, const models::ALSConfig& cfg) {
  models::ALS model(split.train.num_users, split.train.num_items, cfg);
  fit(split, cfg, model);
  return model.state_dict();
}

void check_equal(const nn::StateDict& many, const nn::StateDict& one, const std::string& what) {
  REQUIRE(many.size() == one.size());
  for (const auto& [name, t] : one) testing::check_close(many.at(name), t, 0, 0, what + ": " + name);
}

// The recipe's RunResult on `world` in-process ranks, synthetic data.
app::RunResult recipe_run(int world, int sweeps, const std::string& checkpoint = "", const std::string& resume = "") {
  app::AlsRecipe recipe;
  recipe.model.sweeps = sweeps;
  recipe.model.factors = 6;
  recipe.checkpoint = checkpoint;
  recipe.resume = resume;
  app::RunSettings s;
  s.data = "synthetic";
  s.seed = 5;
  s.verbose = false;
  app::ParallelPlan plan;
  plan.world_size = world;
  return app::run_parallel(recipe, s, plan);
}

}  // namespace

TEST_CASE("als_row_split: contiguous ranges over every row, balanced by ratings, empty ranks allowed") {
  // 10 rows; row 0 heavy (100 ratings), the rest 2 each.
  std::vector<int64_t> ptr{0, 100};
  for (int r = 1; r < 10; ++r) ptr.push_back(ptr.back() + 2);
  CHECK(models::als_row_split(ptr, 1, 4) == std::vector<int64_t>{0, 10});
  // Row 0 alone is more than half the work, so rank 0 takes it and rank 1 the other nine.
  CHECK(models::als_row_split(ptr, 2, 4) == std::vector<int64_t>{0, 1, 10});
  // More ranks than rows: every row once, in order, some ranks without rows.
  for (int world : {3, 7, 15}) {
    std::vector<int64_t> b = models::als_row_split(ptr, world, 4);
    REQUIRE(b.size() == static_cast<size_t>(world) + 1);
    CHECK(b.front() == 0);
    CHECK(b.back() == 10);
    CHECK(std::is_sorted(b.begin(), b.end()));
  }
  // Equal rows split evenly.
  std::vector<int64_t> even{0};
  for (int r = 0; r < 12; ++r) even.push_back(even.back() + 5);
  CHECK(models::als_row_split(even, 3, 8) == std::vector<int64_t>{0, 4, 8, 12});
  CHECK(models::als_row_split(std::vector<int64_t>{0}, 2, 4) == std::vector<int64_t>{0, 0, 0});  // no rows
  CHECK(testing::error_of([] { models::als_row_split({0, 1}, 0, 4); }).find("need 1 or more") != std::string::npos);
}

TEST_CASE("the normal equations and solves of a row range are those rows of the whole side's") {
  const data::Split split = small_split(40, 30, 0.3, 2);
  const models::ALSData d = models::als_data(split.train);
  models::ALSConfig cfg;
  cfg.factors = 5;
  models::ALS model(40, 30, cfg);
  const models::NormalEquations all = models::als_normal_equations(d.by_user, model.item_factors(), model.item_bias(),
                                                                    d.mean, cfg.lambda, true);
  const Tensor x_all = models::solve_spd_batched(all.A, all.b);
  for (const auto& range : std::vector<std::pair<int64_t, int64_t>>{{0, 40}, {0, 13}, {13, 27}, {27, 40}, {20, 20}}) {
    const int64_t begin = range.first, end = range.second;  // not a structured binding: CAPTURE is a lambda
    CAPTURE(begin);
    CAPTURE(end);
    const models::ALSRows part = models::als_row_range(d.by_user, begin, end);
    CHECK(part.rows == end - begin);
    const models::NormalEquations ne = models::als_normal_equations(part, model.item_factors(), model.item_bias(),
                                                                     d.mean, cfg.lambda, true);
    testing::check_close(ne.A, all.A.rows(begin, end - begin), 0, 0, "A of the range");
    testing::check_close(ne.b, all.b.rows(begin, end - begin), 0, 0, "b of the range");
    testing::check_close(models::solve_spd_batched(ne.A, ne.b), x_all.rows(begin, end - begin), 0, 0, "x");
  }
  CHECK(testing::error_of([&] { models::als_row_range(d.by_user, 10, 41); }).find("not within the 40 rows") !=
        std::string::npos);
}

TEST_CASE("ALS on 2 and 3 in-process ranks trains the one-rank model bit for bit") {
  // A small split of planted ratings, and a side with fewer rows than ranks (3 users).
  struct Case {
    const char* what;
    data::Split split;
  };
  for (const Case& c : {Case{"planted 60 x 45", small_split(60, 45, 0.3, 7)}, Case{"3 users", small_split(3, 40, 0.7, 4)}}) {
    CAPTURE(c.what);
    models::ALSConfig cfg;
    cfg.factors = 4;
    cfg.sweeps = 4;
    cfg.seed = 11;
    const nn::StateDict one = run_one(c.split, cfg);
    const train::TrainResult one_r = run_als(c.split, cfg, 1)[0].result;
    for (int world : {1, 2, 3, 5}) {
      CAPTURE(world);
      const std::vector<RankRun> runs = run_als(c.split, cfg, world);
      int64_t users = 0, items = 0;
      for (int r = 0; r < world; ++r) {
        const RankRun& run = runs[static_cast<size_t>(r)];
        check_equal(run.state, one, std::string(c.what) + ", rank " + std::to_string(r) + " of " + std::to_string(world));
        REQUIRE(run.result.history.size() == one_r.history.size());
        for (size_t s = 0; s < one_r.history.size(); ++s) {
          CHECK(run.result.history[s].test.at("test_rmse") == one_r.history[s].test.at("test_rmse"));
          CHECK(run.result.history[s].train_loss == one_r.history[s].train_loss);  // the training RMSE
        }
        if (world > 1) {
          // The rows were split: every rank saw the same counts, which cover each side once.
          REQUIRE(run.user_rows.size() == static_cast<size_t>(world));
          CHECK(run.user_rows == runs[0].user_rows);
          CHECK(run.item_rows == runs[0].item_rows);
          users += run.user_rows[static_cast<size_t>(r)];
          items += run.item_rows[static_cast<size_t>(r)];
          CHECK(run.item_rows[static_cast<size_t>(r)] < c.split.train.num_items);
        }
      }
      if (world > 1) {
        CHECK(users == c.split.train.num_users);
        CHECK(items == c.split.train.num_items);
      }
    }
  }
}

TEST_CASE("a rank that solved other rows trains another model, so the equality above can fail") {
  // Rank 1 of 2 loses its own solved rows in every gather (zeros in their place).
  const data::Split split = small_split(60, 45, 0.3, 7);
  models::ALSConfig cfg;
  cfg.factors = 4;
  cfg.sweeps = 2;
  const nn::StateDict one = run_one(split, cfg);
  nn::StateDict bad;
  dist::LocalRanks(2).run([&](dist::Communicator& comm) {
    models::ALSExchange x{comm.rank(), comm.world_size(), {}};
    x.gather = [&](const Tensor& rows, const std::vector<int64_t>& counts) {
      Tensor all = comm.all_gather_v(rows, counts).data;
      if (comm.rank() == 1) all.rows(counts[0], counts[1]).zero_();
      return all;
    };
    models::ALS model(split.train.num_users, split.train.num_items, cfg);
    fit(split, cfg, model, x);
    if (comm.rank() == 1) bad = model.state_dict();
  });
  const std::vector<float> u = bad.at("user_factors").to_vector<float>(), v = one.at("user_factors").to_vector<float>();
  CHECK(u != v);
}

TEST_CASE("curec's ALS recipe on 2 and 3 ranks reports the one-rank test RMSE; a 2-rank checkpoint resumes on 1") {
  const app::RunResult one = recipe_run(1, 4);
  for (int world : {2, 3}) {
    CAPTURE(world);
    const app::RunResult many = recipe_run(world, 4);
    CHECK(many.metrics.at("test_rmse") == one.metrics.at("test_rmse"));
    CHECK(many.metrics.at("train_rmse") == one.metrics.at("train_rmse"));
  }
  testing::TempDir dir;
  const std::string ck = dir.file("als.ckpt");
  recipe_run(2, 2, ck);  // rank 0 writes it
  const app::RunResult resumed = recipe_run(1, 4, "", ck);
  CHECK(resumed.metrics.at("test_rmse") == one.metrics.at("test_rmse"));
  // And the other way: one rank's checkpoint continued on 3 ranks.
  const std::string ck1 = dir.file("als1.ckpt");
  recipe_run(1, 2, ck1);
  CHECK(recipe_run(3, 4, "", ck1).metrics.at("test_rmse") == one.metrics.at("test_rmse"));
}

TEST_SUITE("cuda") {
  TEST_CASE("on CUDA, the normal equations and solves of a row range are those rows of the whole side's") {
    const data::Split split = small_split(70, 50, 0.3, 3);
    const models::ALSData d = models::als_data(split.train, Device::cuda(0));
    models::ALSConfig cfg;
    cfg.factors = 7;
    models::ALS model(70, 50, cfg, Device::cuda(0));
    const models::NormalEquations all = models::als_normal_equations(d.by_user, model.item_factors(),
                                                                      model.item_bias(), d.mean, cfg.lambda, true);
    const Tensor x_all = models::solve_spd_batched(all.A, all.b).cpu();
    for (const auto& range : std::vector<std::pair<int64_t, int64_t>>{{0, 31}, {31, 70}, {5, 5}}) {
      const int64_t begin = range.first, end = range.second;
      CAPTURE(begin);
      const models::NormalEquations ne = models::als_normal_equations(
          models::als_row_range(d.by_user, begin, end), model.item_factors(), model.item_bias(), d.mean, cfg.lambda,
          true);
      // The kernel computes each row in one block, in the same order whatever the launch.
      testing::check_close(ne.A.cpu(), all.A.cpu().rows(begin, end - begin), 0, 0, "A of the range");
      testing::check_close(ne.b.cpu(), all.b.cpu().rows(begin, end - begin), 0, 0, "b of the range");
      // cuSOLVER's batched Cholesky is not documented to give a matrix the same bits in any batch
      // size: a tight tolerance instead of equality.
      testing::check_close(models::solve_spd_batched(ne.A, ne.b).cpu(), x_all.rows(begin, end - begin), 1e-6f, 1e-6f,
                           "x of the range");
    }
  }
}
