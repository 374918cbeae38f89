#include <string>
#include <vector>

#include "core/autograd.h"
#include "app/ratings_source.h"
#include "models/neumf.h"
#include "ops/concat.h"
#include "ops/elementwise.h"
#include "ops/embedding.h"
#include "ops/linear.h"
#include "ops/reduce.h"
#include "tests/parameter_of.h"
#include "tests/testing.h"
#include "app/recipe.h"

using namespace curec;

using testing::parameter_of;

namespace {
models::NeuMFConfig tiny(float init_std = 0.01f) {
  models::NeuMFConfig c;
  c.num_users = 5;
  c.num_items = 7;
  c.factors = 3;
  c.hidden = {4, 3};
  c.init_std = init_std;
  return c;
}

}  // namespace

TEST_CASE("neumf: score = Σ [p_u ⊙ q_i ; ReLU MLP(u_u ; v_i)]") {
  Generator gen(3);
  models::NeuMF m(tiny(0.5f), gen);
  Tensor users = Tensor::from_vector<int32_t>({0, 4, 2, 2}, {4});
  Tensor items = Tensor::from_vector<int32_t>({6, 0, 3, 1}, {4});
  Tensor got = m.forward(users, items);
  CHECK(got.shape() == Shape{4});

  NoGradGuard ng;
  Tensor gmf = embedding(parameter_of(m, "gmf_users.weight"), users) * embedding(parameter_of(m, "gmf_items.weight"), items);
  Tensor h = concat({embedding(parameter_of(m, "mlp_users.weight"), users), embedding(parameter_of(m, "mlp_items.weight"), items)}, 1);
  h = relu(linear(h, parameter_of(m, "mlp.0.weight"), parameter_of(m, "mlp.0.bias")));
  h = relu(linear(h, parameter_of(m, "mlp.2.weight"), parameter_of(m, "mlp.2.bias")));
  testing::check_close(got, sum(gmf, 1) + sum(h, 1), 1e-5f, 1e-5f, "neumf scores");
  CHECK(m.name() == "neumf");
}

TEST_CASE("neumf: the book's sizes and N(0, 0.01) init") {
  models::NeuMFConfig c;
  c.num_users = 943;
  c.num_items = 1682;
  models::NeuMF m(c);
  CHECK(c.factors == 10);
  int64_t expect = 2 * (943 + 1682) * 10 + (20 * 10 + 10) + 2 * (10 * 10 + 10);
  CHECK(m.num_parameters() == expect);
  std::vector<float> w = parameter_of(m, "gmf_items.weight").to_vector<float>();
  double sq = 0;
  for (float x : w) sq += double(x) * x;
  CHECK(std::sqrt(sq / w.size()) == doctest::Approx(0.01).epsilon(0.05));

  models::NeuMFConfig lin = tiny();
  lin.final_linear = true;
  models::NeuMF with_head(lin);
  CHECK(parameter_of(with_head, "predict.weight").shape() == Shape{1, 3 + 3});
  CHECK(with_head.forward(Tensor::arange(5, DType::i32), Tensor::arange(5, DType::i32)).shape() == Shape{5});
}

TEST_CASE("neumf: score_all_items equals forward on every (user, item) pair, chunk by chunk") {
  Generator gen(4);
  models::NeuMF m(tiny(0.5f), gen);
  NoGradGuard ng;
  for (std::vector<int32_t> us : {std::vector<int32_t>{4, 0, 3}, std::vector<int32_t>{1}, std::vector<int32_t>{2, 2}}) {
    const int64_t n = static_cast<int64_t>(us.size()), I = 7;
    std::vector<int32_t> pu, pi;
    for (int32_t u : us)
      for (int32_t i = 0; i < I; ++i) pu.push_back(u), pi.push_back(i);
    Tensor all = m.score_all_items(Tensor::from_vector(us, {n}));
    REQUIRE(all.shape() == Shape{n, I});
    testing::check_close(all.view({n * I}), m.forward(Tensor::from_vector(pu), Tensor::from_vector(pi)), 1e-6f,
                         1e-6f, "score_all_items");
  }
}

TEST_CASE("neumf: gradient check through both branches (and the Dense(1) head)") {
  for (bool head : {false, true}) {
    CAPTURE(head);
    models::NeuMFConfig c = tiny(0.5f);
    c.final_linear = head;
    Generator gen(11);
    models::NeuMF m(c, gen);
    Tensor users = Tensor::from_vector<int32_t>({0, 1, 4, 4, 2, 3}, {6});
    Tensor items = Tensor::from_vector<int32_t>({6, 5, 0, 2, 2, 1}, {6});
    testing::check_gradients([&](const std::vector<Tensor>&) { return m.forward(users, items); }, m.parameters());
  }
}

TEST_CASE("neumf: bad inputs are errors") {
  models::NeuMF m(tiny());
  CHECK_THROWS_AS(m.forward(Tensor::arange(3, DType::i32), Tensor::arange(4, DType::i32)), Error);
  CHECK_THROWS_AS(m.forward(Tensor::from_vector<int32_t>({5}, {1}), Tensor::from_vector<int32_t>({0}, {1})), Error);
  models::NeuMFConfig bad = tiny();
  bad.hidden = {};
  CHECK_THROWS_AS(models::NeuMF{bad}, Error);
}

TEST_CASE("neumf on MovieLens-100K reaches Hit@50 >= 0.32 and AUC >= 0.86 (book settings, CPU)") {
  CUREC_REQUIRE_DATA(dir, "ml-100k");
  app::RunSettings o;
  o.data = dir;
  o.verbose = false;
  app::RunResult r = app::find_experiment("neumf").recipe()->run(o);
  MESSAGE("neumf: hit@50 ", r.metrics["hit_at_50"], ", auc ", r.metrics["auc"], ", ndcg@10 ", r.metrics["ndcg_at_10"],
          ", ", r.train_seconds, " s training");
  CHECK(r.metrics["hit_at_50"] >= 0.32);
  CHECK(r.metrics["auc"] >= 0.86);
  CHECK(r.epochs == 10);
}

TEST_SUITE("cuda") {
  TEST_CASE("neumf: CPU-vs-CUDA parity of scores, all-item scores and gradients") {
    models::NeuMFConfig c;
    c.num_users = 90;
    c.num_items = 130;
    c.init_std = 0.3f;
    Generator g1(5), g2(5);
    models::NeuMF a(c, g1), b(c, g2);
    b.to(Device::cuda(0));
    Tensor users = testing::randint({700}, 90, 1, DType::i32), items = testing::randint({700}, 130, 2, DType::i32);
    Tensor ya = a.forward(users, items), yb = b.forward(users.to(Device::cuda(0)), items.to(Device::cuda(0)));
    testing::check_close(yb, ya, 1e-5f, 1e-4f, "scores");
    Tensor w = testing::randn({700}, 8);
    sum(ya * w).backward();
    sum(yb * w.to(Device::cuda(0))).backward();
    testing::check_grads_close(b, a, 1e-4f, 1e-4f);
    NoGradGuard ng;
    Tensor some = Tensor::from_vector<int32_t>({3, 89, 0, 41, 41}, {5});
    testing::check_close(b.score_all_items(some.to(Device::cuda(0))), a.score_all_items(some), 1e-5f, 1e-4f,
                         "all-item scores");
  }
}
