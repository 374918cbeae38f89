// The usual training tools: learning-rate schedules, parameter groups, clipping by global norm
// (exact on hand-made gradients, CPU/CUDA parity), all through the trainer: resumed bitwise
// with a schedule and clipping on, and N data-parallel ranks clipping as one rank does.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <numbers>
#include <filesystem>
#include <string>
#include <vector>

#include <unistd.h>

#include "app/data_parallel.h"
#include "core/allocator.h"
#include "app/recipes.h"
#include "data/split.h"
#include "data/synthetic_ratings.h"
#include "models/mf.h"
#include "nn/adam.h"
#include "nn/clip_grad.h"
#include "nn/lr_schedule.h"
#include "nn/optim_math.h"
#include "nn/optimizer_config.h"
#include "nn/optimizer_groups.h"
#include "nn/sgd.h"
#include "tests/testing.h"
#include "train/checkpoint.h"
#include "train/tasks/rating_task.h"
#include "train/trainer.h"
#include "train/updater.h"

using namespace curec;
namespace fs = std::filesystem;

namespace {

Tensor param(const std::vector<float>& v, const Shape& s, Device d = Device::cpu()) {
  return Tensor::from_vector<float>(v, s, d).set_requires_grad();
}

void check_factors(const nn::LrSchedule& s, const std::vector<double>& expected) {
  for (size_t p = 0; p < expected.size(); ++p) {
    INFO(nn::describe(s), " at position ", p);
    CHECK(nn::lr_factor(s, static_cast<int64_t>(p)) == doctest::Approx(expected[p]).epsilon(1e-12));
  }
}

std::vector<float> values(const Tensor& t) { return t.cpu().to_vector<float>(); }

}  // namespace

TEST_CASE("lr schedules: constant, warm-up, step, cosine and linear take the textbook values") {
  check_factors({}, {1, 1, 1});
  check_factors({.warmup = 4}, {0.25, 0.5, 0.75, 1, 1, 1});
  check_factors({.shape = nn::LrShape::step, .decay_steps = 3, .gamma = 0.5f}, {1, 1, 1, 0.5, 0.5, 0.5, 0.25});
  const double c1 = 0.5 * (1 + std::cos(std::numbers::pi / 4)), c3 = 0.5 * (1 + std::cos(3 * std::numbers::pi / 4));
  check_factors({.shape = nn::LrShape::cosine, .decay_steps = 4}, {1, c1, 0.5, c3, 0, 0});
  // Warm-up first; the decay counts from its end.
  check_factors({.shape = nn::LrShape::cosine, .warmup = 2, .decay_steps = 4}, {0.5, 1, 1, c1, 0.5, c3, 0});
  check_factors({.shape = nn::LrShape::linear, .decay_steps = 4, .min_factor = 0.25f},
                {1, 0.8125, 0.625, 0.4375, 0.25, 0.25});
  check_factors({.shape = nn::LrShape::cosine, .decay_steps = 2, .min_factor = 0.5f}, {1, 0.75, 0.5, 0.5});
  CHECK(nn::is_constant({}));
  CHECK_FALSE(nn::is_constant({.warmup = 1}));
  CHECK(nn::parse_lr_shape("cosine") == nn::LrShape::cosine);
  CHECK_THROWS_WITH_AS(nn::parse_lr_shape("exp"), doctest::Contains("constant, step, cosine or linear"), Error);
  CHECK_THROWS_WITH_AS(nn::check_schedule({.shape = nn::LrShape::step}), doctest::Contains("decay_steps > 0"), Error);
  CHECK_THROWS_AS(nn::check_schedule({.shape = nn::LrShape::step, .decay_steps = 2, .gamma = 1.5f}), Error);
  CHECK_THROWS_AS(nn::check_schedule({.warmup = -1}), Error);
  CHECK_THROWS_AS(nn::check_schedule({.shape = nn::LrShape::linear, .min_factor = 2.0f}), Error);
}

TEST_CASE("the updater sets each group's rate from the schedule, spanning the run when decay_steps is 0") {
  CHECK(train::run_updates(10, 3, data::LastBatch::drop, 3) == 9);
  CHECK(train::run_updates(10, 3, data::LastBatch::keep, 3) == 12);
  CHECK(train::run_updates(10, 3, data::LastBatch::rollover, 3) == 10);
  Tensor a = param({1.0f}, {1}), b = param({1.0f}, {1});
  nn::SGD opt({nn::ParamGroup{{a}, 0.5f, {}}, nn::ParamGroup{{b}, 2.0f, {}}}, {.lr = 1.0f});
  train::Updater up(opt, {.lr_schedule = {.shape = nn::LrShape::linear}}, /*run_updates=*/4, /*epochs=*/2);
  CHECK(up.schedule().decay_steps == 4);
  const std::vector<double> factors = {1, 0.75, 0.5, 0.25};
  for (int s = 0; s < 4; ++s) {
    a.set_grad(Tensor::ones({1}));
    b.set_grad(Tensor::ones({1}));
    up.step(1);
    CHECK(opt.lr(0) == static_cast<float>(0.5 * factors[s]));
    CHECK(opt.lr(1) == static_cast<float>(2.0 * factors[s]));
  }
  CHECK(up.updates() == 4);
  // Per epoch: the position is the epoch, whatever the updates done.
  train::Updater per_epoch(opt, {.lr_schedule = {.shape = nn::LrShape::step, .decay_steps = 1, .gamma = 0.5f,
                                                 .per_epoch = true}},
                           100, 3);
  per_epoch.step(3);
  CHECK(opt.lr(1) == static_cast<float>(0.5 * 0.25));  // its base is the rate it found
}

TEST_CASE("parameter groups: no_decay exempts biases and 1-D weights; each group has its own lr and weight decay") {
  std::vector<std::pair<std::string, Tensor>> named = {
      {"fc.weight", param({1, 2, 3, 4}, {2, 2})}, {"fc.bias", param({1, 2}, {2})},
      {"norm.weight", param({1, 1}, {2})},        {"emb.weight", param({1, 2, 3, 4, 5, 6}, {3, 2})}};
  std::vector<nn::ParamGroup> one = nn::param_groups(named, nn::GroupRule::single);
  REQUIRE(one.size() == 1);
  CHECK(one[0].params.size() == 4);
  std::vector<nn::ParamGroup> two = nn::param_groups(named, nn::GroupRule::no_decay);
  REQUIRE(two.size() == 2);
  REQUIRE(two[0].params.size() == 2);
  CHECK(two[0].params[0].impl() == named[0].second.impl());
  CHECK(two[0].params[1].impl() == named[3].second.impl());
  CHECK_FALSE(two[0].weight_decay.has_value());
  REQUIRE(two[1].params.size() == 2);
  CHECK(two[1].weight_decay == 0.0f);
  CHECK(nn::exempt_from_decay("layer.bias", Tensor::zeros({2, 2})));  // by name, whatever the shape
  CHECK_FALSE(nn::exempt_from_decay("biased.weight", Tensor::zeros({2, 2})));
  CHECK(nn::parse_group_rule("no-decay") == nn::GroupRule::no_decay);
  CHECK_THROWS_WITH_AS(nn::parse_group_rule("none"), doctest::Contains("single or no-decay"), Error);

  // SGD: w -= lr * (g + wd * w), with each group's own values.
  Tensor w0 = param({1.0f}, {1}), w1 = param({2.0f}, {1});
  nn::SGD sgd({nn::ParamGroup{{w0}, {}, {}}, nn::ParamGroup{{w1}, 1.0f, 0.0f}}, {.lr = 0.1f, .weight_decay = 0.5f});
  CHECK(sgd.num_groups() == 2);
  CHECK(sgd.weight_decay(0) == 0.5f);
  CHECK(sgd.weight_decay(1) == 0.0f);
  w0.set_grad(Tensor::ones({1}));
  w1.set_grad(Tensor::ones({1}));
  sgd.step();
  CHECK(values(w0)[0] == 1.0f - 0.1f * (1.0f + 0.5f * 1.0f));
  CHECK(values(w1)[0] == 1.0f);

  // Adam with two groups equals one Adam per group.
  Tensor a = param({1.0f, -2.0f}, {2}), b = param({0.5f}, {1});
  Tensor a2 = a.detach().clone().set_requires_grad(), b2 = b.detach().clone().set_requires_grad();
  nn::Adam grouped({nn::ParamGroup{{a}, 0.01f, 0.1f}, nn::ParamGroup{{b}, 0.2f, 0.0f}}, {});
  nn::Adam alone_a({a2}, {.lr = 0.01f, .weight_decay = 0.1f}), alone_b({b2}, {.lr = 0.2f});
  for (int s = 0; s < 3; ++s) {
    for (Tensor* t : {&a, &a2}) t->set_grad(testing::randn({2}, 10 + s));
    for (Tensor* t : {&b, &b2}) t->set_grad(testing::randn({1}, 20 + s));
    grouped.step();
    alone_a.step();
    alone_b.step();
  }
  CHECK(values(a) == values(a2));
  CHECK(values(b) == values(b2));
  grouped.set_lr(1, 0.05f);
  nn::StateDict d = grouped.state_dict();
  CHECK(values(d.at("lr")) == std::vector<float>{0.01f, 0.05f});
  nn::Adam reloaded({nn::ParamGroup{{a2}, {}, {}}, nn::ParamGroup{{b2}, {}, {}}}, {});
  reloaded.load_state_dict(d);
  CHECK(reloaded.lr(1) == 0.05f);
  nn::Adam one_group({a2, b2}, {});
  CHECK_THROWS_WITH_AS(one_group.load_state_dict(d), doctest::Contains("one per parameter group"), Error);
  CHECK_THROWS_WITH_AS(grouped.set_lr(2, 0.1f), doctest::Contains("no parameter group 2"), Error);
  CHECK_THROWS_AS(nn::SGD({nn::ParamGroup{{param({1}, {1})}, {}, -1.0f}}, {}), Error);
}

TEST_CASE("clipping: the global norm of dense and row-sparse gradients is exact, and the step is scaled by it") {
  // Dense [0, 4] and a sparse gradient whose duplicate rows sum to [3, 0]: norm 5 exactly (a sum
  // of the rows' squares without summing duplicates first would give sqrt(16 + 1 + 4) instead).
  Tensor dense = param({1.0f, 1.0f}, {2});
  Tensor table = param({0, 0, 0, 0, 0, 0, 0, 0}, {4, 2});
  Tensor idle = param({7.0f}, {1});  // no gradient: counts as zero, is not updated
  auto set_grads = [&] {
    dense.set_grad(Tensor::from_vector<float>({0.0f, 4.0f}, {2}));
    table.set_sparse_grad(Tensor::from_vector<int64_t>({1, 3, 1}, {3}),
                          Tensor::from_vector<float>({1.0f, 0.0f, 0.0f, 0.0f, 2.0f, 0.0f}, {3, 2}));
  };
  set_grads();
  CHECK(values(nn::grad_norm({dense, table, idle})) == std::vector<float>{5.0f});
  CHECK(values(nn::grad_norm({idle})) == std::vector<float>{0.0f});

  nn::SGD sgd({dense, table, idle}, {.lr = 1.0f});
  CHECK(values(nn::clip_grad_norm(sgd, 1.0f)) == std::vector<float>{5.0f});
  const float f = 1.0f / (5.0f + nn::kClipEps);
  CHECK(values(sgd.grad_scale()) == std::vector<float>{f});
  sgd.step();
  CHECK(values(dense) == std::vector<float>{1.0f - 0.0f * f, 1.0f - 4.0f * f});
  CHECK(values(table) == std::vector<float>{0, 0, -3.0f * f, 0, 0, 0, 0, 0});
  CHECK(values(idle) == std::vector<float>{7.0f});
  CHECK(values(dense.grad()) == std::vector<float>{0.0f, 4.0f});  // the gradients themselves are kept

  // Within the bound the factor is exactly 1: the step is the unclipped one.
  Tensor x = param({1.0f, 2.0f}, {2}), y = param({1.0f, 2.0f}, {2});
  nn::Adam clipped({x}, {.lr = 0.1f}), plain({y}, {.lr = 0.1f});
  x.set_grad(Tensor::from_vector<float>({0.3f, -0.4f}, {2}));
  y.set_grad(Tensor::from_vector<float>({0.3f, -0.4f}, {2}));
  nn::clip_grad_norm(clipped, 10.0f);
  CHECK(values(clipped.grad_scale()) == std::vector<float>{1.0f});
  clipped.step();
  plain.step();
  CHECK(values(x) == values(y));
  CHECK_THROWS_WITH_AS(nn::clip_grad_norm(plain, 0.0f), doctest::Contains("positive"), Error);
  CHECK_THROWS_WITH_AS(plain.set_grad_scale(Tensor::ones({2})), doctest::Contains("f32 [1]"), Error);
  CHECK(nn::optim::clip_factor(2.0f, 1.0f, 0.0f) == 0.5f);
}

TEST_CASE("resume with a schedule, clipping and groups on gives bitwise the uninterrupted run") {
  data::SyntheticRatingsConfig rc;
  rc.num_users = 60;
  rc.num_items = 80;
  rc.density = 0.2;
  rc.seed = 3;
  data::Split s = data::split_random(data::synthetic_ratings(rc), 0.1, 3);
  const std::string ck =
      (fs::temp_directory_path() / ("curec-tools-" + std::to_string(::getpid()) + ".ckpt")).string();
  auto run = [&](int epochs, const std::string& checkpoint, const std::string& resume, bool tools) {
    models::MFConfig mc;
    mc.num_users = s.train.num_users;
    mc.num_items = s.train.num_items;
    mc.factors = 8;
    mc.sparse_grad = true;  // row-sparse gradients in the norm
    Generator gen(1);
    models::MatrixFactorization m(mc, gen);
    train::TrainerConfig c;
    c.epochs = epochs;
    c.batch_size = 37;
    c.optimizer = nn::AdamOptions{.lr = 0.02f, .weight_decay = 1e-3f};
    if (tools) {
      c.update.lr_schedule = {.shape = nn::LrShape::cosine, .warmup = 5, .decay_steps = 60, .min_factor = 0.1f};
      c.update.clip_grad_norm = 0.05f;  // below the early norms: clipping acts
      c.param_groups = nn::GroupRule::no_decay;
    }
    c.checkpoint = checkpoint;
    c.resume = resume;
    train::RatingTask task(m, s.train, s.test);
    train::TrainResult r = train::Trainer(task, c).fit();
    std::vector<double> numbers;
    for (const train::EpochRecord& e : r.history) numbers.insert(numbers.end(), {e.train_loss, e.test.at("test_rmse")});
    return std::make_pair(numbers, m.state_dict());
  };
  auto straight = run(3, "", "", true);
  run(1, ck, "", true);
  REQUIRE(fs::exists(ck));
  CHECK(train::read_checkpoint(ck).updates > 0);
  auto resumed = run(3, "", ck, true);
  CHECK(straight.first == resumed.first);
  for (const auto& [name, t] : straight.second) {
    std::vector<float> x = t.to_vector<float>(), y = resumed.second.at(name).to_vector<float>();
    CHECK_MESSAGE(std::memcmp(x.data(), y.data(), x.size() * sizeof(float)) == 0, name);
  }
  // The tools change the run (the equality above could fail), and a resume under another rule
  // is refused.
  CHECK(run(3, "", "", false).first != straight.first);
  CHECK_THROWS_WITH_AS(run(3, "", ck, false), doctest::Contains("update rule"), Error);
  fs::remove(ck);
}

TEST_CASE("data parallel: 2 ranks clip the averaged gradients, as one rank clips its whole batch") {
  auto train_on = [](int world_size, float clip) {
    std::unique_ptr<app::Recipe> r = app::find_experiment("mf").recipe();
    auto* mf = dynamic_cast<app::MfRecipe*>(r.get());
    REQUIRE(mf);
    mf->train.epochs = 2;
    mf->train.batch_size = 301;
    mf->train.update.clip_grad_norm = clip;
    mf->train.update.lr_schedule = {.shape = nn::LrShape::linear, .warmup = 3};
    app::RunSettings s;
    s.data = "synthetic";
    s.seed = 3;
    s.verbose = false;
    app::ParallelPlan plan;
    plan.world_size = world_size;
    return app::run_parallel(*r, s, plan).trained->state_dict();
  };
  nn::StateDict one = train_on(1, 0.01f), two = train_on(2, 0.01f);
  for (const auto& [name, t] : one) testing::check_close(two.at(name), t, 1e-5f, 1.3e-6f, "2 ranks: " + name);
  // Clipping acts at this bound: the run without it ends elsewhere.
  nn::StateDict unclipped = train_on(1, 0.0f);
  std::vector<float> u = one.at("user_factors.weight").to_vector<float>();
  std::vector<float> v = unclipped.at("user_factors.weight").to_vector<float>();
  double largest = 0;
  for (size_t i = 0; i < u.size(); ++i) largest = std::max(largest, static_cast<double>(std::fabs(u[i] - v[i])));
  CHECK(largest > 1e-4);
}

TEST_SUITE("cuda") {
  TEST_CASE("clipping on CUDA: the norm and the clipped steps equal the CPU's") {
    const Device g = Device::cuda(0);
    const int64_t rows = 300, width = 37;
    Tensor d_cpu = testing::randn({rows, width}, 50).set_requires_grad();
    Tensor e_cpu = testing::randn({rows, width}, 51).set_requires_grad();
    Tensor d_gpu = d_cpu.to(g).detach().set_requires_grad(), e_gpu = e_cpu.to(g).detach().set_requires_grad();
    nn::Adam cpu_opt({d_cpu, e_cpu}, {.lr = 0.01f, .weight_decay = 0.01f});
    nn::Adam gpu_opt({d_gpu, e_gpu}, {.lr = 0.01f, .weight_decay = 0.01f});
    nn::SGD cpu_sgd({d_cpu, e_cpu}, {.lr = 0.1f, .momentum = 0.9f});
    nn::SGD gpu_sgd({d_gpu, e_gpu}, {.lr = 0.1f, .momentum = 0.9f});
    for (int s = 0; s < 3; ++s) {
      Tensor grad = testing::randn({rows, width}, 70 + s);
      Tensor idx = testing::randint({500}, 40, 60 + s);  // many duplicates
      Tensor sparse_rows = testing::randn({500, width}, 80 + s);
      d_cpu.set_grad(grad);
      d_gpu.set_grad(grad.to(g));
      e_cpu.set_sparse_grad(idx, sparse_rows);
      e_gpu.set_sparse_grad(idx.to(g), sparse_rows.to(g));
      nn::Optimizer& co = s == 1 ? static_cast<nn::Optimizer&>(cpu_sgd) : cpu_opt;
      nn::Optimizer& go = s == 1 ? static_cast<nn::Optimizer&>(gpu_sgd) : gpu_opt;
      Tensor n_cpu = nn::clip_grad_norm(co, 1.0f), n_gpu = nn::clip_grad_norm(go, 1.0f);
      CHECK(n_gpu.device() == g);
      testing::check_close(n_gpu, n_cpu, 1e-5f, 1e-5f, "norm");
      CHECK(values(n_cpu)[0] > 1.0f);  // clipping acts
      co.step();
      go.step();
    }
    testing::check_close(d_gpu, d_cpu, 1e-5f, 1e-5f, "dense weights");
    testing::check_close(e_gpu, e_cpu, 1e-5f, 1e-5f, "sparse weights");
  }

  TEST_CASE("steady state: a step with a schedule and clipping neither waits for the GPU nor calls cudaMalloc") {
    const Device g = Device::cuda(0);
    Tensor table = testing::randn({1000, 16}, 5).to(g).detach().set_requires_grad();
    Tensor dense = testing::randn({64, 16}, 6).to(g).detach().set_requires_grad();
    nn::Adam opt({table, dense}, {.lr = 0.01f});
    train::Updater up(opt, {.lr_schedule = {.shape = nn::LrShape::cosine, .warmup = 2}, .clip_grad_norm = 0.5f}, 100,
                      1);
    Tensor idx = testing::randint({256}, 1000, 7).to(g), rows = testing::randn({256, 16}, 8).to(g);
    Tensor grad = testing::randn({64, 16}, 9).to(g);
    auto step = [&] {
      table.set_sparse_grad(idx, rows);
      dense.set_grad(grad);
      up.step(1);
    };
    step();  // the first may fill the allocator's cache
    const uint64_t allocations = memory_stats(g).system_allocations, syncs = host_sync_count(g);
    for (int s = 0; s < 6; ++s) step();
    CHECK(memory_stats(g).system_allocations == allocations);
    CHECK(host_sync_count(g) == syncs);
    synchronize(g);
    CHECK(opt.lr() < 0.01f);  // the schedule moved on
  }
}
