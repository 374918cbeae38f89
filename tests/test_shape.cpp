#include "core/autograd.h"
#include "ops/elementwise.h"
#include "ops/shape.h"
#include "tests/testing.h"

using namespace curec;
using testing::randn;

TEST_CASE("reshape views the same storage and infers one -1") {
  Tensor x = Tensor::from_vector<float>({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor y = reshape(x, {3, -1});
  CHECK(y.shape() == Shape{3, 2});
  CHECK(y.data<float>() == x.data<float>());
  CHECK(y.to_vector<float>() == x.to_vector<float>());
  CHECK(reshape(x, {-1}).shape() == Shape{6});
  CHECK(reshape(x, {1, 6, 1}).shape() == Shape{1, 6, 1});
  CHECK_THROWS_WITH_AS(reshape(x, {4, -1}), doctest::Contains("cannot infer"), Error);
  CHECK_THROWS_WITH_AS(reshape(x, {-1, -1}), doctest::Contains("more than one -1"), Error);
  CHECK_THROWS_WITH_AS(reshape(x, {4, 2}), doctest::Contains("(6 elements) to [4, 2] (8 elements)"), Error);
}

TEST_CASE("squeeze, unsqueeze and flatten change only the shape") {
  Tensor x = randn({2, 1, 3}, 1);
  CHECK(squeeze(x, 1).shape() == Shape{2, 3});
  CHECK(squeeze(x, -2).shape() == Shape{2, 3});
  CHECK_THROWS_WITH_AS(squeeze(x, 0), doctest::Contains("has size 2, not 1"), Error);
  CHECK_THROWS_WITH_AS(squeeze(x, 3), doctest::Contains("out of range"), Error);
  CHECK(unsqueeze(x, 0).shape() == Shape{1, 2, 1, 3});
  CHECK(unsqueeze(x, 3).shape() == Shape{2, 1, 3, 1});
  CHECK(unsqueeze(x, -1).shape() == Shape{2, 1, 3, 1});
  CHECK_THROWS_AS(unsqueeze(x, 4), Error);
  Tensor z = randn({2, 3, 4, 5}, 2);
  CHECK(flatten(z).shape() == Shape{2, 60});
  CHECK(flatten(z, 0).shape() == Shape{120});
  CHECK(flatten(z, 2).shape() == Shape{2, 3, 20});
  CHECK(flatten(z, -1).shape() == Shape{2, 3, 4, 5});
  CHECK(flatten(z).data<float>() == z.data<float>());
}

TEST_CASE("view ops: gradients come back in the input's shape") {
  Tensor x = randn({2, 1, 6}, 3);
  x.set_requires_grad();
  // Each view alone is in the op table; a chain of views after a real op still routes the gradient.
  testing::check_gradients(
      [](const std::vector<Tensor>& in) { return flatten(unsqueeze(squeeze(exp(in[0]), 1), 2)); }, {x});
  CHECK(x.grad().shape() == x.shape());
}

TEST_SUITE("cuda") {
  TEST_CASE("view ops: CPU-vs-CUDA parity") {
    Tensor x = randn({33, 1, 17}, 4);
    x.set_requires_grad();
    testing::check_parity([](const std::vector<Tensor>& in) { return square(reshape(in[0], {17, -1})); }, {x});
    testing::check_parity([](const std::vector<Tensor>& in) { return square(squeeze(in[0], 1)); }, {x});
    testing::check_parity([](const std::vector<Tensor>& in) { return square(unsqueeze(in[0], -1)); }, {x});
    testing::check_parity([](const std::vector<Tensor>& in) { return square(flatten(in[0])); }, {x});
  }
}
