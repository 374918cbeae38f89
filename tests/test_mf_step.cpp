#include <cmath>
#include <string>
#include <vector>

#include "core/autograd.h"
#include "core/device.h"
#include "data/split.h"
#include "data/synthetic_ratings.h"
#include "models/mf.h"
#include "ops/elementwise.h"
#include "ops/loss.h"
#include "ops/mf_step.h"
#include "tests/testing.h"
#include "train/tasks/rating_task.h"
#include "train/trainer.h"

using namespace curec;
using testing::rand_uniform;
using testing::randint;

namespace {

struct Batch {
  Tensor users, items, ratings;
};

// Few users and items for many examples, so ids repeat within the batch.
Batch random_batch(int64_t n, int64_t users, int64_t items, uint64_t seed, DType dt) {
  return {randint({n}, users, seed, dt), randint({n}, items, seed + 1, dt), rand_uniform({n}, seed + 2, 1.0f, 5.0f)};
}

// What mf_fused_step writes into zeroed buffers: gradients of P, Q, bu, bi, then the loss sum.
std::vector<Tensor> fused(const models::MatrixFactorization& m, const Batch& b, float loss_start = 0.0f) {
  const Device d = m.user_factors().device();
  std::vector<Tensor> out;
  for (const Tensor* t : {&m.user_factors(), &m.item_factors(), &m.user_bias(), &m.item_bias()})
    out.push_back(Tensor::zeros(t->shape(), DType::f32, d));
  out.push_back(Tensor::full({1}, loss_start, d));
  mf_fused_step(m.user_factors(), m.item_factors(), m.user_bias(), m.item_bias(), b.users.to(d), b.items.to(d),
                b.ratings.to(d), out[0], out[1], out[2], out[3], out[4]);
  return out;
}

// The same through the generic path: predict, mean squared_error, backward.
std::vector<Tensor> autograd_path(models::MatrixFactorization& m, const Batch& b) {
  m.zero_grad();
  Tensor loss = squared_error(m.predict(b.users, b.items), b.ratings, Reduction::mean);
  loss.backward();
  return {m.user_factors().grad(), m.item_factors().grad(), m.user_bias().grad(), m.item_bias().grad(),
          (loss.detach() * static_cast<float>(b.users.numel())).view({1})};
}

const char* const kNames[] = {"dP", "dQ", "dbu", "dbi", "loss sum"};

data::Interactions planted(uint64_t seed) {
  data::SyntheticRatingsConfig c;
  c.seed = seed;
  c.density = 0.2;
  return data::synthetic_ratings(c);
}

// Test RMSE and train loss per epoch of an MF trained from the seed-fixed init.
train::TrainResult train_mf(const data::Split& s, int64_t num_users, int64_t num_items, bool fused_steps,
                            Device device, int epochs = 3) {
  Generator gen(11);
  models::MatrixFactorization m(models::MFConfig{num_users, num_items, 8, 0.1f}, gen);
  train::TrainerConfig tc;
  tc.epochs = epochs;
  tc.batch_size = 256;
  tc.optimizer = nn::AdamOptions{.lr = 0.01f, .weight_decay = 1e-5f};
  tc.seed = 5;
  tc.device = device;
  train::RatingTask task(m, s.train, s.test, fused_steps);
  return train::Trainer(task, tc).fit();
}

double rmse(const train::EpochRecord& e) { return e.test.at("test_rmse"); }
double rmse(const train::TrainResult& r) { return r.final_test.at("test_rmse"); }

}  // namespace

TEST_CASE("mf_fused_step: gradients and loss equal the autograd path, with repeated ids") {
  for (DType dt : {DType::i32, DType::i64})
    for (int64_t k : {1, 5, 40}) {
      CAPTURE(k);
      Generator gen(3);
      models::MatrixFactorization m(models::MFConfig{7, 9, k, 0.5f}, gen);
      Batch b = random_batch(60, 7, 9, 10 + k, dt);  // 60 examples over 7 users: many repeats
      std::vector<Tensor> want = autograd_path(m, b), got = fused(m, b);
      for (size_t t = 0; t < want.size(); ++t) testing::check_close(got[t], want[t], 1e-5f, 1e-5f, kNames[t]);
      // Known value: the loss sum from its definition.
      std::vector<float> pred = m.predict(b.users, b.items).to_vector<float>(), r = b.ratings.to_vector<float>();
      double sum = 0;
      for (size_t e = 0; e < pred.size(); ++e) sum += 0.5 * (pred[e] - r[e]) * (pred[e] - r[e]);
      CHECK(got[4].item() == doctest::Approx(sum).epsilon(1e-5));
    }
}

TEST_CASE("mf_fused_step accumulates into the gradient buffers and the loss sum") {
  Generator gen(4);
  models::MatrixFactorization m(models::MFConfig{5, 6, 3, 0.5f}, gen);
  Batch b = random_batch(20, 5, 6, 30, DType::i32);
  std::vector<Tensor> once = fused(m, b), twice = fused(m, b, 2.5f);
  mf_fused_step(m.user_factors(), m.item_factors(), m.user_bias(), m.item_bias(), b.users, b.items, b.ratings,
                twice[0], twice[1], twice[2], twice[3], twice[4]);
  for (size_t t = 0; t < 4; ++t) testing::check_close(twice[t], once[t] * 2.0f, 1e-6f, 1e-6f, kNames[t]);
  CHECK(twice[4].item() == doctest::Approx(2.5 + 2.0 * once[4].item()).epsilon(1e-6));
}

TEST_CASE("mf_fused_step: out-of-range ids throw before anything is written; bad shapes are rejected") {
  Generator gen(5);
  models::MatrixFactorization m(models::MFConfig{4, 6, 3}, gen);
  Tensor ok = Tensor::from_vector<int32_t>({0, 3}, {2}), r = Tensor::from_vector<float>({1.0f, 2.0f}, {2});
  Tensor gP = Tensor::zeros({4, 3}), gQ = Tensor::zeros({6, 3}), gbu = Tensor::zeros({4, 1}), gbi = Tensor::zeros({6, 1});
  Tensor loss = Tensor::zeros({1});
  auto step = [&](const Tensor& u, const Tensor& i) {
    mf_fused_step(m.user_factors(), m.item_factors(), m.user_bias(), m.item_bias(), u, i, r, gP, gQ, gbu, gbi, loss);
  };
  CHECK_THROWS_WITH_AS(step(Tensor::from_vector<int32_t>({1, 4}, {2}), ok),
                       doctest::Contains("user id 4 at position 1 is out of range for a table of 4 rows"), Error);
  CHECK_THROWS_WITH_AS(step(ok, Tensor::from_vector<int32_t>({-1, 2}, {2})),
                       doctest::Contains("item id -1 at position 0 is out of range"), Error);
  for (const Tensor& g : {gP, gQ, gbu, gbi, loss})
    for (float v : g.to_vector<float>()) CHECK(v == 0.0f);
  CHECK_THROWS_AS(step(ok, Tensor::from_vector<int64_t>({0, 1}, {2})), Error);  // mixed id dtypes
  CHECK_THROWS_AS(step(ok, Tensor::from_vector<int32_t>({0}, {1})), Error);     // lengths differ
  Tensor wrong = Tensor::zeros({4, 2});
  CHECK_THROWS_AS(mf_fused_step(m.user_factors(), m.item_factors(), m.user_bias(), m.item_bias(), ok, ok, r, wrong,
                                gQ, gbu, gbi, loss),
                  Error);
}

TEST_CASE("fused MF training reaches the generic path's test RMSE") {
  data::Interactions d = planted(7);
  data::Split s = data::split_random(d, 0.1, 7);
  train::TrainResult generic = train_mf(s, d.num_users, d.num_items, false, Device::cpu());
  train::TrainResult fast = train_mf(s, d.num_users, d.num_items, true, Device::cpu());
  MESSAGE("3 epochs: generic RMSE ", rmse(generic), ", fused ", rmse(fast));
  REQUIRE(fast.history.size() == 3);
  for (size_t e = 0; e < 3; ++e) {
    CHECK(rmse(fast.history[e]) == doctest::Approx(rmse(generic.history[e])).epsilon(1e-3));
    CHECK(fast.history[e].train_loss == doctest::Approx(generic.history[e].train_loss).epsilon(1e-3));
  }
  CHECK(std::abs(rmse(fast) - rmse(generic)) < 1e-3);
  CHECK(fast.history.back().train_loss < fast.history.front().train_loss);  // it learns
}

TEST_CASE("fused training refuses what it cannot do: sparse gradients") {
  data::Interactions d = planted(8);
  models::MFConfig c{d.num_users, d.num_items, 4};
  c.sparse_grad = true;
  models::MatrixFactorization m(c);
  train::TrainerConfig tc;
  tc.epochs = 1;
  train::RatingTask task(m, d, d, /*fused=*/true);
  CHECK_THROWS_WITH_AS(train::Trainer(task, tc).fit(), doctest::Contains("sparse_grad"), Error);
}

TEST_SUITE("cuda") {
  TEST_CASE("mf_fused_step: CPU-vs-CUDA parity of gradients and loss") {
    const Device gpu = Device::cuda(0);
    for (DType dt : {DType::i32, DType::i64})
      for (int64_t k : {1, 30, 70}) {
        CAPTURE(k);
        Generator g1(6), g2(6);
        models::MatrixFactorization a(models::MFConfig{40, 50, k, 0.3f}, g1), b(models::MFConfig{40, 50, k, 0.3f}, g2);
        b.to(gpu);
        Batch batch = random_batch(3000, 40, 50, 40 + k, dt);  // ~75 examples per user
        std::vector<Tensor> want = fused(a, batch), got = fused(b, batch);
        for (size_t t = 0; t < want.size(); ++t) {
          CHECK(got[t].is_cuda());
          testing::check_close(got[t].cpu(), want[t], 1e-7f, 1e-5f, kNames[t]);
        }
      }
  }

  TEST_CASE("mf_fused_step on CUDA: a bad id raises curec::Error at synchronize and skips the example") {
    const Device gpu = Device::cuda(0);
    Generator gen(7);
    models::MatrixFactorization m(models::MFConfig{4, 6, 3}, gen);
    m.to(gpu);
    synchronize(gpu);
    for (DType dt : {DType::i32, DType::i64}) {
      Batch bad{(dt == DType::i32 ? Tensor::from_vector<int32_t>({0, 9}) : Tensor::from_vector<int64_t>({0, 9})),
                (dt == DType::i32 ? Tensor::from_vector<int32_t>({1, 1}) : Tensor::from_vector<int64_t>({1, 1})),
                Tensor::from_vector<float>({3.0f, 4.0f})};
      std::vector<Tensor> out = fused(m, bad);  // no throw here: the kernel only records the error
      CHECK_THROWS_WITH_AS(synchronize(gpu), doctest::Contains("out of range for a table of 4 rows"), Error);
      synchronize(gpu);  // the report cleared the flag
      // Only the good example (user 0) contributed.
      std::vector<float> gbu = out[2].to_vector<float>();
      CHECK(gbu[0] != 0.0f);
      CHECK(gbu[1] == 0.0f);
      CHECK(gbu[3] == 0.0f);
    }
  }

  TEST_CASE("fused MF training on CUDA follows the CPU run epoch by epoch") {
    data::Interactions d = planted(9);
    data::Split s = data::split_random(d, 0.1, 9);
    train::TrainResult cpu = train_mf(s, d.num_users, d.num_items, true, Device::cpu());
    train::TrainResult gpu = train_mf(s, d.num_users, d.num_items, true, Device::cuda(0));
    train::TrainResult gpu_generic = train_mf(s, d.num_users, d.num_items, false, Device::cuda(0));
    MESSAGE("RMSE cpu fused ", rmse(cpu), ", cuda fused ", rmse(gpu), ", cuda generic ", rmse(gpu_generic));
    for (size_t e = 0; e < cpu.history.size(); ++e) {
      CHECK(gpu.history[e].train_loss == doctest::Approx(cpu.history[e].train_loss).epsilon(1e-4));
      CHECK(rmse(gpu.history[e]) == doctest::Approx(rmse(cpu.history[e])).epsilon(1e-4));
    }
    CHECK(std::abs(rmse(gpu) - rmse(gpu_generic)) < 1e-3);
  }
}
