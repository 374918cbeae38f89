#include <cmath>
#include <vector>

#include "core/autograd.h"
#include "models/fm.h"
#include "ops/elementwise.h"
#include "ops/reduce.h"
#include "tests/testing.h"

using namespace curec;

namespace {
// Rows of global feature indices: field f takes offset_f + a value in [0, dims[f]).
Tensor random_rows(const std::vector<int64_t>& dims, int64_t batch, uint64_t seed) {
  std::vector<int32_t> x;
  uint64_t state = seed * 6364136223846793005ull + 1442695040888963407ull;
  for (int64_t b = 0; b < batch; ++b) {
    int64_t offset = 0;
    for (int64_t d : dims) {
      state = state * 6364136223846793005ull + 1442695040888963407ull;
      x.push_back(static_cast<int32_t>(offset + static_cast<int64_t>((state >> 33) % static_cast<uint64_t>(d))));
      offset += d;
    }
  }
  return Tensor::from_vector(x, {batch, static_cast<int64_t>(dims.size())});
}
}  // namespace

TEST_CASE("fm: logit = bias + linear terms + brute-force pairwise sum of <v_f, v_g>") {
  std::vector<int64_t> dims{3, 5, 2, 4};
  models::FMConfig c{dims, 3};
  Generator gen(7);
  models::FactorizationMachine m(c, gen);
  Tensor bias;
  for (auto& [name, t] : m.named_parameters())
    if (name == "bias") bias = t;
  REQUIRE(bias.defined());
  bias.fill_(0.25f);  // non-zero, so a dropped bias would show
  Tensor x = random_rows(dims, 6, 3);
  std::vector<float> logits = m.logits(x).to_vector<float>(), probs = m.predict(x).to_vector<float>();
  nn::StateDict sd = m.state_dict();
  auto V = sd.at("embedding.weight").to_vector<float>(), W = sd.at("linear.weight").to_vector<float>();
  auto xs = x.to_vector<int32_t>();
  const int64_t F = 4, k = 3;
  for (int64_t b = 0; b < 6; ++b) {
    double expect = 0.25;
    for (int64_t f = 0; f < F; ++f) expect += W[xs[b * F + f]];
    for (int64_t f = 0; f < F; ++f)
      for (int64_t g = f + 1; g < F; ++g)
        for (int64_t j = 0; j < k; ++j) expect += double(V[xs[b * F + f] * k + j]) * V[xs[b * F + g] * k + j];
    CHECK(logits[b] == doctest::Approx(expect).epsilon(1e-5));
    CHECK(probs[b] == doctest::Approx(1.0 / (1.0 + std::exp(-expect))).epsilon(1e-5));
  }
  CHECK(m.num_features() == 14);
  CHECK(m.num_parameters() == 14 * 3 + 14 + 1);
  CHECK(m.name() == "fm");
}

TEST_CASE("fm: xavier-uniform init as the book (bounds sqrt(6 / (rows + width)))") {
  std::vector<int64_t> dims{40, 60};
  models::FactorizationMachine m(models::FMConfig{dims, 20});
  nn::StateDict sd = m.state_dict();
  auto check_bound = [](const std::vector<float>& v, double bound) {
    float lo = 0, hi = 0;
    for (float t : v) lo = std::min(lo, t), hi = std::max(hi, t);
    CHECK(hi <= bound);
    CHECK(lo >= -bound);
    CHECK(hi > 0.8 * bound);  // spread over the whole range, not a narrow normal
  };
  check_bound(sd.at("embedding.weight").to_vector<float>(), std::sqrt(6.0 / (100 + 20)));
  check_bound(sd.at("linear.weight").to_vector<float>(), std::sqrt(6.0 / (100 + 1)));
  CHECK(sd.at("bias").to_vector<float>()[0] == 0.0f);
}

TEST_CASE("fm with 0 factors is logistic regression: bias + linear terms only") {
  std::vector<int64_t> dims{3, 4};
  models::FactorizationMachine m(models::FMConfig{dims, 0});
  CHECK(m.name() == "logistic");
  CHECK(m.num_parameters() == 7 + 1);
  Tensor x = Tensor::from_vector<int32_t>({0, 3, 2, 6}, {2, 2});
  auto W = m.state_dict().at("linear.weight").to_vector<float>();
  auto y = m.logits(x).to_vector<float>();
  CHECK(y[0] == doctest::Approx(W[0] + W[3]));
  CHECK(y[1] == doctest::Approx(W[2] + W[6]));
}

TEST_CASE("fm: gradient check through the model (embeddings, linear terms, bias)") {
  std::vector<int64_t> dims{3, 2, 4};
  Generator gen(11);
  models::FactorizationMachine m(models::FMConfig{dims, 4}, gen);
  Tensor x = random_rows(dims, 5, 9);
  testing::check_gradients([&](const std::vector<Tensor>&) { return m.logits(x); }, m.parameters());
  testing::check_gradients([&](const std::vector<Tensor>&) { return m.predict(x); }, m.parameters());
}

TEST_CASE("fm: bad input is a clear error") {
  models::FactorizationMachine m(models::FMConfig{{3, 4}, 2});
  CHECK_THROWS_WITH_AS(m.logits(Tensor::from_vector<int32_t>({0, 3, 1}, {1, 3})), doctest::Contains("[batch, 2]"),
                       Error);
  CHECK_THROWS_AS(m.logits(Tensor::from_vector<float>({0, 3}, {1, 2})), Error);
  CHECK_THROWS_AS(m.logits(Tensor::from_vector<int32_t>({0, 7}, {1, 2})), Error);  // id 7 >= 7 features
  CHECK_THROWS_AS(models::FactorizationMachine(models::FMConfig{{3, 0}, 2}), Error);
}

TEST_SUITE("cuda") {
  TEST_CASE("fm: CPU-vs-CUDA parity of logits and gradients") {
    std::vector<int64_t> dims{30, 50, 7, 90, 12};
    Generator g1(3), g2(3);
    models::FactorizationMachine a(models::FMConfig{dims, 20}, g1), b(models::FMConfig{dims, 20}, g2);
    b.to(Device::cuda(0));
    Tensor x = random_rows(dims, 700, 5);
    Tensor ya = a.logits(x), yb = b.logits(x.to(Device::cuda(0)));
    testing::check_close(yb, ya, 1e-5f, 1e-5f, "logits");
    Tensor w = testing::randn({700}, 8);
    sum(ya * w).backward();
    sum(yb * w.to(Device::cuda(0))).backward();
    testing::check_grads_close(b, a, 1e-4f, 1e-4f);
  }
}
