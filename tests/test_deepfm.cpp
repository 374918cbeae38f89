#include <cmath>
#include <vector>

#include "core/autograd.h"
#include "models/deepfm.h"
#include "ops/elementwise.h"
#include "ops/embedding.h"
#include "ops/fm.h"
#include "ops/linear.h"
#include "ops/reduce.h"
#include "ops/shape.h"
#include "tests/testing.h"

using namespace curec;

namespace {
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

models::DeepFMConfig tiny(const std::vector<int64_t>& dims) {
  models::DeepFMConfig c;
  c.field_dims = dims;
  c.factors = 3;
  c.hidden = {5, 4};
  c.dropout = 0.1f;
  return c;
}
}  // namespace

TEST_CASE("deepfm: logit = FM logit + MLP over the concatenated field embeddings (eval mode)") {
  std::vector<int64_t> dims{3, 4, 2};
  Generator gen(5);
  models::DeepFM m(tiny(dims), gen);
  m.eval();
  Tensor x = random_rows(dims, 7, 2);
  Tensor got = m.logits(x);

  NoGradGuard ng;
  auto p = m.named_parameters();
  auto param = [&](const std::string& name) {
    for (auto& [n, t] : p)
      if (n == name) return t;
    FAIL("no parameter ", name);
    return Tensor();
  };
  // Layers: 0 Linear, 1 ReLU, 2 Dropout, 3 Linear, 4 ReLU, 5 Dropout, 6 Linear (to 1).
  Tensor e = embedding(param("embedding.weight"), x);
  Tensor h = relu(linear(flatten(e, 1), param("mlp.0.weight"), param("mlp.0.bias")));
  h = relu(linear(h, param("mlp.3.weight"), param("mlp.3.bias")));
  Tensor deep = squeeze(linear(h, param("mlp.6.weight"), param("mlp.6.bias")), -1);
  Tensor fm = sum(squeeze(embedding(param("linear.weight"), x), -1), 1) + param("bias") + fm_interaction(e);
  testing::check_close(got, fm + deep, 1e-5f, 1e-5f, "deepfm logits");
  CHECK(param("mlp.0.weight").shape() == Shape{5, 9});
  CHECK(param("mlp.6.weight").shape() == Shape{1, 4});
  CHECK(m.name() == "deepfm");
}

TEST_CASE("deepfm: the book's layout, 30-20-10 with ReLU and dropout 0.1, then Linear to 1") {
  models::DeepFMConfig c;
  c.field_dims = {10, 20, 30};
  models::DeepFM m(c);
  CHECK(c.factors == 10);
  int64_t expect = 60 * 10 + 60 + 1 + (30 * 30 + 30) + (30 * 20 + 20) + (20 * 10 + 10) + (10 + 1);
  CHECK(m.num_parameters() == expect);
}

TEST_CASE("deepfm: dropout is active in training and off in eval mode") {
  std::vector<int64_t> dims{6, 5, 7, 4};
  models::DeepFMConfig c = tiny(dims);
  c.dropout = 0.5f;
  models::DeepFM m(c);
  Tensor x = random_rows(dims, 64, 1);
  m.train();
  auto t1 = m.logits(x).to_vector<float>(), t2 = m.logits(x).to_vector<float>();
  m.eval();
  auto e1 = m.logits(x).to_vector<float>(), e2 = m.logits(x).to_vector<float>();
  CHECK(e1 == e2);
  int differ = 0;
  for (size_t i = 0; i < t1.size(); ++i) differ += t1[i] != t2[i];
  CHECK(differ > 10);
}

TEST_CASE("deepfm: gradient check through FM and MLP (eval mode: dropout off)") {
  std::vector<int64_t> dims{3, 2, 4};
  Generator gen(13);
  models::DeepFM m(tiny(dims), gen);
  m.eval();
  Tensor x = random_rows(dims, 6, 4);
  testing::check_gradients([&](const std::vector<Tensor>&) { return m.logits(x); }, m.parameters());
}

TEST_CASE("deepfm: a model outlives the generator it was built with") {
  std::vector<int64_t> dims{3, 4};
  std::unique_ptr<models::DeepFM> m;
  {
    Generator local(3);
    m = std::make_unique<models::DeepFM>(tiny(dims), local);
  }
  m->train();
  Tensor y = m->logits(random_rows(dims, 8, 1));  // dropout draws from the model's own generator
  CHECK(y.numel() == 8);
}

TEST_SUITE("cuda") {
  TEST_CASE("deepfm: CPU-vs-CUDA parity of logits and gradients, dropout masks included") {
    std::vector<int64_t> dims{30, 50, 7, 90, 12, 5};
    models::DeepFMConfig c;
    c.field_dims = dims;
    Generator g1(3), g2(3);
    models::DeepFM a(c, g1), b(c, g2);
    b.to(Device::cuda(0));
    Tensor x = random_rows(dims, 600, 5), xg = x.to(Device::cuda(0));
    for (bool training : {false, true}) {
      CAPTURE(training);
      a.train(training);
      b.train(training);
      a.zero_grad();
      b.zero_grad();
      Tensor ya = a.logits(x), yb = b.logits(xg);
      testing::check_close(yb, ya, 1e-4f, 1e-4f, "logits");
      Tensor w = testing::randn({600}, 8);
      sum(ya * w).backward();
      sum(yb * w.to(Device::cuda(0))).backward();
      testing::check_grads_close(b, a, 1e-4f, 1e-4f);
    }
  }
}
