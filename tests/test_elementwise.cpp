#include "core/autograd.h"
#include "ops/elementwise.h"
#include "tests/testing.h"

using namespace curec;
using testing::randn;

namespace {
const Unary kUnary[] = {Unary::neg, Unary::exp, Unary::square, Unary::sigmoid, Unary::tanh, Unary::relu, Unary::elu};
const Binary kBinary[] = {Binary::add, Binary::sub, Binary::mul, Binary::div};

// Divisors kept away from zero so differences stay well conditioned.
Tensor away_from_zero(const Shape& s, uint64_t seed) {
  return testing::rand_uniform(s, seed, 0.5f, 2.0f);
}

// Each broadcast form: same shape, scalar, row [n], row [1, n], column [m], column [m, 1].
std::vector<std::pair<Shape, Shape>> broadcast_cases() {
  return {{{4, 3}, {4, 3}}, {{4, 3}, {}}, {{4, 3}, {3}}, {{4, 3}, {1, 3}}, {{4, 3}, {4}}, {{4, 3}, {4, 1}},
          {{}, {4, 3}},     {{3}, {4, 3}}, {{4, 1}, {4, 3}}};
}
}  // namespace

TEST_CASE("unary ops compute their formulas") {
  Tensor x = Tensor::from_vector<float>({-2.0f, -0.5f, 0.0f, 1.5f}, {4});
  CHECK(relu(x).to_vector<float>() == std::vector<float>{0, 0, 0, 1.5f});
  CHECK(sign(x).to_vector<float>() == std::vector<float>{-1, -1, 0, 1});
  CHECK(square(x).to_vector<float>()[0] == doctest::Approx(4.0));
  CHECK(sigmoid(x).to_vector<float>()[2] == doctest::Approx(0.5));
  CHECK(elu(x).to_vector<float>()[0] == doctest::Approx(std::exp(-2.0) - 1));
  Tensor p = Tensor::from_vector<float>({0.25f, 4.0f}, {2});
  CHECK(sqrt(p).to_vector<float>() == std::vector<float>{0.5f, 2.0f});
  CHECK(log(p).to_vector<float>()[1] == doctest::Approx(std::log(4.0)));
  std::vector<float> tails = sigmoid(Tensor::from_vector<float>({-100.0f, 100.0f}, {2})).to_vector<float>();
  CHECK(tails[0] >= 0.0f);
  CHECK(tails[0] < 1e-30f);
  CHECK(tails[1] == 1.0f);
}

TEST_CASE("binary ops broadcast and reduce gradients back") {
  Tensor a = Tensor::from_vector<float>({1, 2, 3, 4, 5, 6}, {2, 3});
  CHECK((a + Tensor::from_vector<float>({10, 20, 30}, {3})).to_vector<float>() ==
        std::vector<float>{11, 22, 33, 14, 25, 36});
  CHECK((a * Tensor::from_vector<float>({10, 100}, {2, 1})).to_vector<float>() ==
        std::vector<float>{10, 20, 30, 400, 500, 600});
  CHECK((1.0f - a).to_vector<float>() == std::vector<float>{0, -1, -2, -3, -4, -5});
  CHECK_THROWS_WITH_AS(a + Tensor::zeros({4}), doctest::Contains("cannot broadcast"), Error);
}

TEST_CASE("binary ops: gradient check over every broadcast form") {
  for (Binary op : kBinary)
    for (const auto& shapes : broadcast_cases()) {
      // Not a structured binding: clang before 16 cannot capture one (CAPTURE is a lambda).
      const Shape &sa = shapes.first, &sb = shapes.second;
      CAPTURE(static_cast<int>(op));
      CAPTURE(shape_str(sa));
      CAPTURE(shape_str(sb));
      Tensor a = randn(sa, 3);
      Tensor b = op == Binary::div ? away_from_zero(sb, 4) : randn(sb, 4);
      a.set_requires_grad();
      b.set_requires_grad();
      testing::check_gradients([op](const std::vector<Tensor>& in) { return binary(op, in[0], in[1]); }, {a, b});
    }
}

TEST_CASE("a tensor used twice accumulates both gradients") {
  Tensor x = randn({5}, 7);
  x.set_requires_grad();
  testing::check_gradients([](const std::vector<Tensor>& in) { return in[0] * in[0] + exp(in[0]); }, {x});
}

TEST_SUITE("cuda") {
  TEST_CASE("unary ops: CPU-vs-CUDA parity") {
    for (Unary op : kUnary) {
      Tensor x = randn({33, 17}, 5);
      x.set_requires_grad();
      testing::check_parity([op](const std::vector<Tensor>& in) { return unary(op, in[0]); }, {x});
    }
    for (Unary op : {Unary::log, Unary::sqrt, Unary::sign}) {
      Tensor x = away_from_zero({33, 17}, 6);
      x.set_requires_grad();
      testing::check_parity([op](const std::vector<Tensor>& in) { return unary(op, in[0]); }, {x});
    }
  }

  TEST_CASE("binary ops: CPU-vs-CUDA parity over every broadcast form") {
    for (Binary op : kBinary)
      for (auto& [sa, sb] : broadcast_cases()) {
        Tensor a = randn(sa, 8);
        Tensor b = op == Binary::div ? away_from_zero(sb, 9) : randn(sb, 9);
        a.set_requires_grad();
        b.set_requires_grad();
        testing::check_parity([op](const std::vector<Tensor>& in) { return binary(op, in[0], in[1]); }, {a, b});
      }
  }
}

TEST_CASE("gelu: x Φ(x) with the exact normal CDF, and its gradient") {
  Tensor x = Tensor::from_vector<float>({-3.0f, -1.0f, 0.0f, 0.5f, 2.0f}, {5});
  std::vector<float> y = gelu(x).to_vector<float>();
  for (size_t i = 0; i < y.size(); ++i) {
    const double v = x.to_vector<float>()[i];
    CHECK(y[i] == doctest::Approx(v * 0.5 * std::erfc(-v / std::sqrt(2.0))).epsilon(1e-6));
  }
  // Values PyTorch's torch.nn.functional.gelu gives (approximate='none').
  CHECK(y[1] == doctest::Approx(-0.15865525).epsilon(1e-6));
  CHECK(y[4] == doctest::Approx(1.95449974).epsilon(1e-6));
  Tensor w = testing::randn({4, 6}, 11, 2.0f).set_requires_grad();
  testing::check_gradients([](const std::vector<Tensor>& in) { return gelu(in[0]); }, {w});
}
