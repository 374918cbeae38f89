#include <string>
#include <vector>

#include "core/autograd.h"
#include "models/caser.h"
#include "ops/concat.h"
#include "ops/conv2d.h"
#include "ops/elementwise.h"
#include "ops/embedding.h"
#include "ops/linear.h"
#include "ops/reduce.h"
#include "ops/shape.h"
#include "tests/parameter_of.h"
#include "tests/testing.h"
#include "app/recipe.h"

using namespace curec;

using testing::parameter_of;

namespace {
models::CaserConfig tiny(float init_std = 0.01f) {
  models::CaserConfig c;
  c.num_users = 4;
  c.num_items = 9;
  c.factors = 3;
  c.L = 3;
  c.d = 2;
  c.d_prime = 2;
  c.init_std = init_std;
  return c;
}


// The representation written out with plain loops over the conv outputs (eval mode).
std::vector<float> reference_repr(const models::Caser& m, const Tensor& users, const Tensor& seqs) {
  const auto& c = m.config();
  const int64_t n = users.numel(), L = c.L, k = c.factors;
  Tensor image = reshape(embedding(parameter_of(m, "seq_items.weight"), seqs), {n, 1, L, k});
  std::vector<Tensor> feats{reshape(conv2d(image, parameter_of(m, "conv_v.weight"), parameter_of(m, "conv_v.bias")), {n, -1})};
  for (int64_t h = 1; h <= L; ++h) {
    std::string name = "conv_h" + std::to_string(h);
    std::vector<float> y = conv2d(image, parameter_of(m, name + ".weight"), parameter_of(m, name + ".bias")).to_vector<float>();
    const int64_t steps = L - h + 1;
    std::vector<float> pooled(n * c.d);
    for (int64_t b = 0; b < n; ++b)
      for (int64_t f = 0; f < c.d; ++f) {
        float best = 0;  // max of ReLU outputs: never below 0
        for (int64_t t = 0; t < steps; ++t) best = std::max(best, y[(b * c.d + f) * steps + t]);
        pooled[b * c.d + f] = best;
      }
    feats.push_back(Tensor::from_vector(pooled, {n, c.d}));
  }
  Tensor z = relu(linear(concat(feats, 1), parameter_of(m, "fc.weight"), parameter_of(m, "fc.bias")));
  return concat({z, embedding(parameter_of(m, "user_emb.weight"), users)}, 1).to_vector<float>();
}
}  // namespace

TEST_CASE("caser: representation [ReLU fc(vertical ; max-pooled ReLU horizontal) ; p_u] and its scores") {
  Generator gen(2);
  models::Caser m(tiny(0.5f), gen);
  m.eval();
  Tensor users = Tensor::from_vector<int32_t>({0, 3, 1}, {3});
  Tensor seqs = Tensor::from_vector<int64_t>({1, 2, 3, 8, 0, 9, 4, 4, 4}, {3, 3});  // 9 = padding
  Tensor items = Tensor::from_vector<int32_t>({5, 0, 8}, {3});
  Tensor r = m.represent(users, seqs);
  REQUIRE(r.shape() == Shape{3, 6});
  NoGradGuard ng;
  testing::check_close(r, Tensor::from_vector(reference_repr(m, users, seqs), {3, 6}), 1e-5f, 1e-5f, "repr");
  Tensor expect = sum(r * embedding(parameter_of(m, "out_items.weight"), items), 1) +
                  squeeze(embedding(parameter_of(m, "out_bias.weight"), items), -1);
  testing::check_close(m.forward(users, seqs, items), expect, 1e-6f, 1e-6f, "scores");
  // All-item scores: one row per user, equal to forward on each item.
  Tensor all = m.score_all_items(users, seqs);
  REQUIRE(all.shape() == Shape{3, 9});
  std::vector<float> av = all.to_vector<float>();
  for (int32_t i = 0; i < 9; ++i) {
    std::vector<float> col = m.forward(users, seqs, Tensor::from_vector<int32_t>({i, i, i}, {3})).to_vector<float>();
    for (int b = 0; b < 3; ++b) CHECK(av[b * 9 + i] == doctest::Approx(col[b]).epsilon(1e-5));
  }
}

TEST_CASE("caser: the book's sizes") {
  models::CaserConfig c;
  c.num_users = 943;
  c.num_items = 1682;
  models::Caser m(c);
  const int64_t k = 10, L = 5, d = 16, dp = 4;
  int64_t conv_h = 0;
  for (int64_t h = 1; h <= L; ++h) conv_h += d * h * k + d;
  int64_t expect = 943 * k + 1683 * k + (dp * L + dp) + conv_h + ((dp * k + d * L) * k + k) + 1682 * 2 * k + 1682;
  CHECK(m.num_parameters() == expect);
  CHECK(parameter_of(m, "conv_h5.weight").shape() == Shape{16, 1, 5, 10});
  CHECK(parameter_of(m, "conv_v.weight").shape() == Shape{4, 1, 5, 1});
}

TEST_CASE("caser: dropout only while training") {
  models::CaserConfig c = tiny(0.5f);
  c.dropout = 0.5f;
  Generator gen(7);
  models::Caser m(c, gen);
  Tensor users = testing::randint({40}, 4, 1, DType::i32), seqs = testing::randint({40, 3}, 10, 2);
  m.train();
  auto t1 = m.represent(users, seqs).to_vector<float>(), t2 = m.represent(users, seqs).to_vector<float>();
  m.eval();
  auto e1 = m.represent(users, seqs).to_vector<float>(), e2 = m.represent(users, seqs).to_vector<float>();
  CHECK(e1 == e2);
  CHECK(t1 != t2);
}

TEST_CASE("caser: gradient check through convolutions, pooling, fc and both embeddings (eval mode)") {
  Generator gen(13);
  models::Caser m(tiny(0.5f), gen);
  m.eval();
  Tensor users = Tensor::from_vector<int32_t>({0, 1, 3, 2, 3}, {5});
  Tensor seqs = Tensor::from_vector<int32_t>({1, 2, 3, 3, 5, 7, 8, 0, 6, 2, 2, 9, 4, 1, 0}, {5, 3});
  Tensor items = Tensor::from_vector<int32_t>({4, 6, 1, 0, 8}, {5});
  testing::check_gradients([&](const std::vector<Tensor>&) { return m.forward(users, seqs, items); }, m.parameters(),
                           1e-3f, 3e-3f, 3e-2f);
}

TEST_CASE("caser: bad inputs are errors") {
  models::Caser m(tiny());
  CHECK_THROWS_AS(m.represent(Tensor::arange(2, DType::i32), Tensor::zeros({2, 4}, DType::i32)), Error);
  CHECK_THROWS_AS(m.represent(Tensor::arange(3, DType::i32), Tensor::zeros({2, 3}, DType::i32)), Error);
  CHECK_THROWS_AS(m.score(Tensor::zeros({2, 6}), Tensor::arange(3, DType::i32)), Error);
  models::CaserConfig bad = tiny();
  bad.dropout = 1.0f;
  CHECK_THROWS_AS(models::Caser{bad}, Error);
}

TEST_CASE("caser on MovieLens-100K reaches Hit@50 >= 0.38 and AUC >= 0.87 (book settings, CPU)") {
  CUREC_REQUIRE_DATA(dir, "ml-100k");
  app::RunSettings o;
  o.data = dir;
  o.verbose = false;
  app::RunResult r = app::find_experiment("caser").recipe()->run(o);
  MESSAGE("caser: hit@50 ", r.metrics["hit_at_50"], ", auc ", r.metrics["auc"], ", ndcg@10 ", r.metrics["ndcg_at_10"],
          ", ", r.train_seconds, " s training");
  CHECK(r.metrics["hit_at_50"] >= 0.38);
  CHECK(r.metrics["auc"] >= 0.87);
  CHECK(r.epochs == 8);
}

TEST_SUITE("cuda") {
  TEST_CASE("caser: CPU-vs-CUDA parity of scores and gradients, dropout masks included") {
    models::CaserConfig c;
    c.num_users = 60;
    c.num_items = 200;
    c.init_std = 0.3f;
    Generator g1(5), g2(5);
    models::Caser a(c, g1), b(c, g2);
    b.to(Device::cuda(0));
    const Device gpu = Device::cuda(0);
    Tensor users = testing::randint({500}, 60, 1, DType::i32), seqs = testing::randint({500, 5}, 201, 2);
    Tensor items = testing::randint({500}, 200, 3, DType::i32);
    for (bool training : {false, true}) {
      CAPTURE(training);
      a.train(training);
      b.train(training);
      a.zero_grad();
      b.zero_grad();
      Tensor ya = a.forward(users, seqs, items), yb = b.forward(users.to(gpu), seqs.to(gpu), items.to(gpu));
      testing::check_close(yb, ya, 1e-4f, 1e-4f, "scores");
      Tensor w = testing::randn({500}, 8);
      sum(ya * w).backward();
      sum(yb * w.to(gpu)).backward();
      testing::check_grads_close(b, a, 1e-4f, 1e-4f);
    }
    a.eval();
    b.eval();
    NoGradGuard ng;
    testing::check_close(b.score_all_items(users.rows(0, 37).to(gpu), seqs.rows(0, 37).to(gpu)),
                         a.score_all_items(users.rows(0, 37), seqs.rows(0, 37)), 1e-4f, 1e-4f, "all-item scores");
  }
}
