#include <cmath>
#include <string>

#include "core/autograd.h"
#include "ops/loss.h"
#include "tests/testing.h"

using namespace curec;
using testing::randn;

namespace {
const Reduction kReductions[] = {Reduction::none, Reduction::mean, Reduction::sum};

Tensor vec(std::vector<float> v) { return Tensor::from_vector<float>(v); }

// The four unmasked losses behind one signature, for loops over all of them.
using LossFn = Tensor (*)(const Tensor&, const Tensor&, Reduction);
Tensor hinge_default(const Tensor& a, const Tensor& b, Reduction r) { return hinge_loss(a, b, 1.0f, r); }
Tensor hinge_wide(const Tensor& a, const Tensor& b, Reduction r) { return hinge_loss(a, b, 2.5f, r); }
Tensor squared_error_fn(const Tensor& a, const Tensor& b, Reduction r) { return squared_error(a, b, r); }
Tensor bce_fn(const Tensor& a, const Tensor& b, Reduction r) { return bce_with_logits(a, b, r); }
Tensor bpr_fn(const Tensor& a, const Tensor& b, Reduction r) { return bpr_loss(a, b, r); }
const LossFn kLosses[] = {squared_error_fn, bce_fn, bpr_fn, hinge_default, hinge_wide};

// Targets with exact zeros (unobserved under the default mask) at about a third of the entries.
Tensor sparse_targets(const Shape& s, uint64_t seed) {
  Tensor t = testing::rand_uniform(s, seed, 1.0f, 5.0f);
  Tensor keep = testing::rand_uniform(s, seed + 1, 0.0f, 1.0f);
  float* pt = t.data<float>();
  const float* pk = keep.data<float>();
  for (int64_t i = 0; i < t.numel(); ++i)
    if (pk[i] < 0.35f) pt[i] = 0.0f;
  return t;
}
Tensor u8_mask_of(const Tensor& t) {
  std::vector<float> v = t.to_vector<float>();
  std::vector<uint8_t> m(v.size());
  for (size_t i = 0; i < v.size(); ++i) m[i] = v[i] != 0.0f;
  return Tensor::from_vector<uint8_t>(m, t.shape());
}
Tensor f32_mask_of(const Tensor& t) {
  std::vector<float> v = t.to_vector<float>();
  for (float& x : v) x = x != 0.0f ? 1.0f : 0.0f;
  return Tensor::from_vector<float>(v, t.shape());
}
}  // namespace

TEST_CASE("squared_error: hand-computed values for each reduction") {
  Tensor p = vec({1, 2, 3}), y = vec({0, 2, 5});
  CHECK(squared_error(p, y, Reduction::none).to_vector<float>() == std::vector<float>{0.5f, 0.0f, 2.0f});
  CHECK(squared_error(p, y, Reduction::sum).item() == doctest::Approx(2.5));
  CHECK(squared_error(p, y).item() == doctest::Approx(2.5 / 3));
  CHECK(squared_error(p, y, Reduction::none).shape() == Shape{3});
  CHECK(squared_error(p, y).shape() == Shape{});

  p.set_requires_grad();
  y.set_requires_grad();
  squared_error(p, y, Reduction::sum).backward();
  CHECK(p.grad().to_vector<float>() == std::vector<float>{1, 0, -2});
  CHECK(y.grad().to_vector<float>() == std::vector<float>{-1, 0, 2});
}

TEST_CASE("bce_with_logits: finite and correct at saturated logits") {
  Tensor x = vec({50, -50, 0, 50, -50}), y = vec({1, 0, 1, 0, 1});
  x.set_requires_grad();
  Tensor l = bce_with_logits(x, y, Reduction::none);
  std::vector<float> v = l.to_vector<float>();
  CHECK(v[0] == doctest::Approx(0.0).epsilon(1e-6));
  CHECK(v[0] >= 0.0f);
  CHECK(v[1] == doctest::Approx(0.0).epsilon(1e-6));
  CHECK(v[2] == doctest::Approx(std::log(2.0)));
  CHECK(v[3] == doctest::Approx(50.0));
  CHECK(v[4] == doctest::Approx(50.0));
  l.backward(Tensor::ones({5}));
  std::vector<float> g = x.grad().to_vector<float>();  // σ(x) − y
  CHECK(g[0] == doctest::Approx(0.0));
  CHECK(g[1] == doctest::Approx(0.0));
  CHECK(g[2] == doctest::Approx(-0.5));
  CHECK(g[3] == doctest::Approx(1.0));
  CHECK(g[4] == doctest::Approx(-1.0));
  // Soft labels: the minimum over x is at σ(x) = y, where the loss is the label's entropy.
  float ent = -(0.25f * std::log(0.25f) + 0.75f * std::log(0.75f));
  CHECK(bce_with_logits(vec({std::log(1.0f / 3.0f)}), vec({0.25f})).item() == doctest::Approx(ent));
}

TEST_CASE("bpr_loss: stable at large score differences") {
  Tensor pos = vec({100, -100, 0, 1}), neg = vec({0, 0, 0, 0});
  pos.set_requires_grad();
  neg.set_requires_grad();
  Tensor l = bpr_loss(pos, neg, Reduction::none);
  std::vector<float> v = l.to_vector<float>();
  CHECK(v[0] == doctest::Approx(0.0));
  CHECK(v[1] == doctest::Approx(100.0));
  CHECK(v[2] == doctest::Approx(std::log(2.0)));
  CHECK(v[3] == doctest::Approx(-std::log(1.0 / (1.0 + std::exp(-1.0)))));
  l.backward(Tensor::ones({4}));
  std::vector<float> gp = pos.grad().to_vector<float>(), gn = neg.grad().to_vector<float>();
  CHECK(gp[0] == doctest::Approx(0.0));
  CHECK(gp[1] == doctest::Approx(-1.0));
  CHECK(gp[2] == doctest::Approx(-0.5));
  for (int i = 0; i < 4; ++i) {
    CHECK(std::isfinite(gp[i]));
    CHECK(gn[i] == doctest::Approx(-gp[i]));
  }
}

TEST_CASE("hinge_loss: hand-computed values and gradients") {
  Tensor pos = vec({2, 0.5f, 0}), neg = vec({0, 0, 1});
  pos.set_requires_grad();
  neg.set_requires_grad();
  Tensor l = hinge_loss(pos, neg, 1.0f, Reduction::none);
  CHECK(l.to_vector<float>() == std::vector<float>{0, 0.5f, 2});
  l.backward(Tensor::ones({3}));
  CHECK(pos.grad().to_vector<float>() == std::vector<float>{0, -1, -1});
  CHECK(neg.grad().to_vector<float>() == std::vector<float>{0, 1, 1});
  CHECK(hinge_loss(pos, neg, 3.0f, Reduction::sum).item() == doctest::Approx(1 + 2.5 + 4));
}

TEST_CASE("every loss: mean is sum / n and none keeps the shape") {
  Tensor a = randn({4, 3}, 1), b = randn({4, 3}, 2);
  for (LossFn f : kLosses) {
    Tensor none = f(a, b, Reduction::none);
    CHECK(none.shape() == a.shape());
    double total = 0;
    for (float x : none.to_vector<float>()) total += x;
    CHECK(f(a, b, Reduction::sum).item() == doctest::Approx(total).epsilon(1e-5));
    CHECK(f(a, b, Reduction::mean).item() == doctest::Approx(total / 12).epsilon(1e-5));
  }
}

TEST_CASE("losses reject mismatched shapes and dtypes, naming both shapes") {
  Tensor a = Tensor::zeros({4, 3}), b = Tensor::zeros({3, 4});
  try {
    squared_error(a, b);
    FAIL("mismatched shapes were accepted");
  } catch (const Error& e) {
    std::string msg = e.what();
    CHECK(msg.find("[4, 3]") != std::string::npos);
    CHECK(msg.find("[3, 4]") != std::string::npos);
  }
  CHECK_THROWS_WITH_AS(bpr_loss(a, b), doctest::Contains("pos"), Error);
  CHECK_THROWS_AS(bce_with_logits(a, Tensor::zeros({4, 3}, DType::i32)), Error);
  CHECK_THROWS_WITH_AS(masked_squared_error(a, a, Tensor::zeros({12}, DType::u8)), doctest::Contains("mask"), Error);
  CHECK_THROWS_WITH_AS(masked_squared_error(a, a, Tensor::zeros({4, 3}, DType::i64)), doctest::Contains("u8 or f32"),
                       Error);
  CHECK_THROWS_AS(squared_error(Tensor::zeros({0}), Tensor::zeros({0})), Error);
}

TEST_CASE("masked_squared_error: hand-computed values under each mask form") {
  Tensor p = vec({1, 2, 3, 4}), y = vec({0, 2, 5, 3});
  // Observed where target != 0: entries 1, 2, 3 -> losses 0, 2, 0.5.
  CHECK(masked_squared_error(p, y, Tensor(), Reduction::none).to_vector<float>() ==
        std::vector<float>{0, 0, 2, 0.5f});
  CHECK(masked_squared_error(p, y, Tensor(), Reduction::sum).item() == doctest::Approx(2.5));
  CHECK(masked_squared_error(p, y).item() == doctest::Approx(2.5 / 3));
  // An explicit mask observes the zero target and skips entry 2.
  Tensor m8 = Tensor::from_vector<uint8_t>({1, 1, 0, 1}, {4});
  Tensor mf = vec({1, 1, 0, 1});
  for (const Tensor& m : {m8, mf}) {
    CHECK(masked_squared_error(p, y, m, Reduction::none).to_vector<float>() == std::vector<float>{0.5f, 0, 0, 0.5f});
    CHECK(masked_squared_error(p, y, m).item() == doctest::Approx(1.0 / 3));
  }
  // Nothing observed: a mean of 0 with zero gradient, not NaN.
  p.set_requires_grad();
  Tensor none_observed = masked_squared_error(p, Tensor::zeros({4}));
  CHECK(none_observed.item() == 0.0f);
  none_observed.backward();
  CHECK(p.grad().to_vector<float>() == std::vector<float>{0, 0, 0, 0});
}

TEST_CASE("masked_squared_error ignores unobserved entries in loss and gradient") {
  Shape s{6, 5};
  Tensor y = sparse_targets(s, 3);
  for (Tensor mask : {Tensor(), u8_mask_of(y), f32_mask_of(y)})
    for (Reduction r : kReductions) {
      Tensor p = randn(s, 4);
      p.set_requires_grad();
      Tensor l1 = masked_squared_error(p, y, mask, r);
      l1.backward(Tensor::ones(l1.shape()));
      Tensor g1 = p.grad().clone();
      std::vector<float> v1 = l1.to_vector<float>();

      // Wild values (even inf) at unobserved entries must change nothing.
      Tensor q = p.detach().clone();
      const float* py = y.data<float>();
      float* pq = q.data<float>();
      for (int64_t i = 0; i < q.numel(); ++i)
        if (py[i] == 0.0f) pq[i] = i % 2 ? 1e30f : INFINITY;
      q.set_requires_grad();
      Tensor l2 = masked_squared_error(q, y, mask, r);
      l2.backward(Tensor::ones(l2.shape()));
      CHECK(l2.to_vector<float>() == v1);
      CHECK(q.grad().to_vector<float>() == g1.to_vector<float>());
      const float* pg = g1.data<float>();
      for (int64_t i = 0; i < g1.numel(); ++i)
        if (py[i] == 0.0f) CHECK(pg[i] == 0.0f);
    }
}

TEST_CASE("every loss: gradient check for both operands and each reduction") {
  for (LossFn f : kLosses)
    for (Reduction r : kReductions) {
      CAPTURE(static_cast<int>(r));
      Tensor a = randn({3, 5}, 5), b = randn({3, 5}, 6);
      a.set_requires_grad();
      b.set_requires_grad();
      testing::check_gradients([f, r](const std::vector<Tensor>& in) { return f(in[0], in[1], r); }, {a, b});
    }
}

TEST_CASE("masked_squared_error: gradient check") {
  Shape s{4, 5};
  Tensor y = sparse_targets(s, 7);
  for (Reduction r : kReductions) {
    CAPTURE(static_cast<int>(r));
    // Explicit masks: pred and target both differentiable.
    for (Tensor mask : {u8_mask_of(y), f32_mask_of(y)}) {
      Tensor p = randn(s, 8), t = y.clone();
      p.set_requires_grad();
      t.set_requires_grad();
      testing::check_gradients(
          [mask, r](const std::vector<Tensor>& in) { return masked_squared_error(in[0], in[1], mask, r); }, {p, t});
    }
    // Default mask: perturbing a zero target would flip it to observed, so only pred varies.
    Tensor p = randn(s, 9), t = y.clone();
    p.set_requires_grad();
    testing::check_gradients(
        [r](const std::vector<Tensor>& in) { return masked_squared_error(in[0], in[1], Tensor(), r); }, {p, t});
  }
}

TEST_SUITE("cuda") {
  TEST_CASE("every loss: CPU-vs-CUDA parity on odd sizes") {
    for (LossFn f : kLosses)
      for (Reduction r : kReductions) {
        CAPTURE(static_cast<int>(r));
        Tensor a = randn({1001, 7}, 10, 2.0f), b = randn({1001, 7}, 11, 2.0f);
        a.set_requires_grad();
        b.set_requires_grad();
        testing::check_parity([f, r](const std::vector<Tensor>& in) { return f(in[0], in[1], r); }, {a, b});
      }
  }

  TEST_CASE("bce_with_logits: CPU-vs-CUDA parity on 0/1 labels and saturated logits") {
    Tensor x = randn({1003}, 12, 30.0f), y = testing::randint({1003}, 2, 13, DType::i64);
    std::vector<int64_t> yi = y.to_vector<int64_t>();
    Tensor labels = Tensor::from_vector<float>(std::vector<float>(yi.begin(), yi.end()), {1003});
    x.set_requires_grad();
    testing::check_parity([](const std::vector<Tensor>& in) { return bce_with_logits(in[0], in[1]); }, {x, labels});
  }

  TEST_CASE("masked_squared_error: CPU-vs-CUDA parity under each mask form") {
    Shape s{1001, 13};
    Tensor y = sparse_targets(s, 14);
    for (Tensor mask : {Tensor(), u8_mask_of(y), f32_mask_of(y)})
      for (Reduction r : kReductions) {
        CAPTURE(static_cast<int>(r));
        Tensor p = randn(s, 15), t = y.clone();
        p.set_requires_grad();
        t.set_requires_grad();
        testing::check_parity(
            [mask, r](const std::vector<Tensor>& in) {
              return masked_squared_error(in[0], in[1], mask.defined() ? mask.to(in[0].device()) : Tensor(), r);
            },
            {p, t});
      }
  }
}
