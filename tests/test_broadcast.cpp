// NumPy broadcasting of the binary ops over up to 4 dims (ops/broadcast.h): the shapes, the
// values, gradients summed over the stretched dims, and the errors.
#include <functional>

#include "ops/broadcast.h"
#include "ops/elementwise.h"
#include "ops/reduce.h"
#include "tests/testing.h"

using namespace curec;
using testing::randn;

namespace {

const Binary kBinary[] = {Binary::add, Binary::sub, Binary::mul, Binary::div};

// Pairs that none of the fast forms (same shape, scalar, row, column) covers.
std::vector<std::pair<Shape, Shape>> general_cases() {
  return {{{2, 1, 3}, {4, 1}},       {{3, 1, 5}, {3, 4, 1}},    {{4, 1}, {1, 3}},       {{2, 3, 1, 5}, {3, 4, 1}},
          {{1, 3, 1, 2}, {2, 1, 4, 1}}, {{2, 1, 4}, {2, 3, 1}}, {{5, 1, 1, 3}, {2, 3}},
          // Leading dims that are also trailing dims: NumPy's reading, not the column extension.
          {{3, 3, 3}, {3, 3}},       {{3, 3}, {2, 3, 3}}};
}

Tensor operand(Binary op, const Shape& s, uint64_t seed, bool divisor) {
  return op == Binary::div && divisor ? testing::rand_uniform(s, seed, 0.5f, 2.0f) : randn(s, seed);
}

// The value of a op b at output index (i0..i3) of `out`, read by NumPy's rules by hand.
float reference(Binary op, const Tensor& a, const Tensor& b, const Shape& out, int64_t flat) {
  Shape idx(out.size());
  for (int64_t d = static_cast<int64_t>(out.size()) - 1; d >= 0; --d) idx[d] = flat % out[d], flat /= out[d];
  auto read = [&](const Tensor& t) {
    std::vector<float> v = t.to_vector<float>();
    int64_t off = 0, shift = static_cast<int64_t>(out.size()) - t.dim();
    for (int64_t d = 0; d < t.dim(); ++d) off = off * t.size(d) + (t.size(d) == 1 ? 0 : idx[d + shift]);
    return v[off];
  };
  return ew::binary(op, read(a), read(b));
}

}  // namespace

TEST_CASE("broadcast: the result shape aligns dims from the right and stretches size-1 dims") {
  CHECK(broadcast_shape("add", Tensor::zeros({2, 1, 3}), Tensor::zeros({4, 1})) == Shape{2, 4, 3});
  CHECK(broadcast_shape("add", Tensor::zeros({5, 1, 1, 3}), Tensor::zeros({2, 3})) == Shape{5, 1, 2, 3});
  CHECK(broadcast_shape("add", Tensor::zeros({0, 1}), Tensor::zeros({1, 3})) == Shape{0, 3});
  CHECK((Tensor::zeros({3, 1, 2}) * Tensor::zeros({3, 2, 1})).shape() == Shape{3, 2, 2});
}

TEST_CASE("broadcast: every element is a op b read by NumPy's rules") {
  for (Binary op : kBinary)
    for (const auto& shapes : general_cases()) {
      CAPTURE(shape_str(shapes.first));
      CAPTURE(shape_str(shapes.second));
      Tensor a = operand(op, shapes.first, 1, false), b = operand(op, shapes.second, 2, true);
      Tensor out = binary(op, a, b);
      std::vector<float> got = out.to_vector<float>();
      REQUIRE(out.shape() == broadcast_shape("t", a, b));
      for (int64_t i = 0; i < out.numel(); ++i) CHECK(got[i] == reference(op, a, b, out.shape(), i));
    }
}

TEST_CASE("broadcast: the column extension applies only where NumPy cannot broadcast") {
  Tensor m = Tensor::from_vector<float>({0, 0, 0, 0, 0, 0}, {2, 3});
  CHECK((m + Tensor::from_vector<float>({1, 2}, {2})).to_vector<float>() == std::vector<float>{1, 1, 1, 2, 2, 2});
  Tensor sq = Tensor::zeros({2, 2});
  CHECK((sq + Tensor::from_vector<float>({1, 2}, {2})).to_vector<float>() == std::vector<float>{1, 2, 1, 2});
}

TEST_CASE("broadcast: an attention-style mask [B, 1, L] with [B, L, 1]") {
  Tensor row = Tensor::from_vector<float>({1, 2, 3}, {1, 1, 3}), col = Tensor::from_vector<float>({10, 20}, {1, 2, 1});
  CHECK((row + col).to_vector<float>() == std::vector<float>{11, 12, 13, 21, 22, 23});
}

TEST_CASE("broadcast: the gradient of a stretched operand is summed over its stretched dims") {
  Tensor a = randn({2, 1, 3}, 3).set_requires_grad(), b = randn({4, 1}, 4).set_requires_grad();
  sum(a + b).backward();
  CHECK(a.grad().shape() == Shape{2, 1, 3});
  CHECK(b.grad().shape() == Shape{4, 1});
  for (float v : a.grad().to_vector<float>()) CHECK(v == 4.0f);
  for (float v : b.grad().to_vector<float>()) CHECK(v == 6.0f);
  CHECK(sum_to(Tensor::ones({2, 3, 4}), {3, 1}).to_vector<float>() == std::vector<float>{8, 8, 8});
}

TEST_CASE("broadcast: gradient check of every op over the general forms") {
  for (Binary op : kBinary)
    for (const auto& shapes : general_cases()) {
      CAPTURE(static_cast<int>(op));
      CAPTURE(shape_str(shapes.first));
      CAPTURE(shape_str(shapes.second));
      Tensor a = operand(op, shapes.first, 5, false).set_requires_grad();
      Tensor b = operand(op, shapes.second, 6, true).set_requires_grad();
      testing::check_gradients([op](const std::vector<Tensor>& in) { return binary(op, in[0], in[1]); }, {a, b});
    }
}

TEST_CASE("broadcast: incompatible shapes name both; more than 4 dims is refused") {
  std::string e = testing::error_of([] { add(Tensor::zeros({2, 3}), Tensor::zeros({4, 2})); });
  CHECK(e.find("cannot broadcast f32[2, 3]") != std::string::npos);
  CHECK(e.find("f32[4, 2]") != std::string::npos);
  CHECK(e.find("aligned from the right") != std::string::npos);
  CHECK_THROWS_WITH_AS(mul(Tensor::zeros({2, 1, 1, 1, 3}), Tensor::zeros({4, 1})),
                       doctest::Contains("at most 4 dims"), Error);
  // The fast forms keep working at any rank.
  CHECK((Tensor::zeros({2, 1, 1, 1, 3}) + Tensor::ones({3})).shape() == Shape{2, 1, 1, 1, 3});
}

TEST_SUITE("cuda") {
  TEST_CASE("broadcast: CPU-vs-CUDA parity over the general forms") {
    for (Binary op : kBinary)
      for (const auto& shapes : general_cases()) {
        Tensor a = operand(op, shapes.first, 7, false).set_requires_grad();
        Tensor b = operand(op, shapes.second, 8, true).set_requires_grad();
        testing::check_parity([op](const std::vector<Tensor>& in) { return binary(op, in[0], in[1]); }, {a, b});
      }
  }
}
