// max over one dim with its argmax (ops/reduce_max.h): values, indices, ties, NaN, keepdim and
// negative dims, the gradient routed to the argmax, errors.
#include <cmath>

#include "ops/elementwise.h"
#include "ops/reduce_max.h"
#include "tests/testing.h"

using namespace curec;

TEST_CASE("max: values and argmax indices over each dim") {
  Tensor x = Tensor::from_vector<float>({1, 5, 3, 7, 2, 9}, {2, 3});
  MaxResult r = max(x, 1);
  CHECK(r.values.to_vector<float>() == std::vector<float>{5, 9});
  CHECK(r.indices.dtype() == DType::i64);
  CHECK(r.indices.to_vector<int64_t>() == std::vector<int64_t>{1, 2});
  MaxResult c = max(x, 0, true);
  CHECK(c.values.shape() == Shape{1, 3});
  CHECK(c.values.to_vector<float>() == std::vector<float>{7, 5, 9});
  CHECK(c.indices.to_vector<int64_t>() == std::vector<int64_t>{1, 0, 1});
  CHECK(max(x, -1).indices.to_vector<int64_t>() == std::vector<int64_t>{1, 2});
  Tensor y = testing::randn({2, 3, 4, 5}, 1);
  for (int64_t d = -4; d < 4; ++d) CHECK(max(y, d, true).values.dim() == 4);
  CHECK(max(y, 2).values.shape() == Shape{2, 3, 5});
}

TEST_CASE("max: the first maximum wins a tie, a NaN beats every number") {
  const float nan = std::nanf("");
  Tensor x = Tensor::from_vector<float>({4, 4, 1, -1, nan, 8, nan, nan, 0}, {3, 3});
  MaxResult r = max(x, 1);
  CHECK(r.indices.to_vector<int64_t>() == std::vector<int64_t>{0, 1, 0});
  std::vector<float> v = r.values.to_vector<float>();
  CHECK(v[0] == 4.0f);
  CHECK(std::isnan(v[1]));
  CHECK(std::isnan(v[2]));
}

TEST_CASE("max: the gradient goes to the argmax only, ties to the first") {
  Tensor x = Tensor::from_vector<float>({3, 3, 1, 0, 2, 2}, {2, 3}).set_requires_grad();
  MaxResult r = max(x, 1);
  (r.values * Tensor::from_vector<float>({10, 20}, {2})).backward(Tensor::ones({2}));
  CHECK(x.grad().to_vector<float>() == std::vector<float>{10, 0, 0, 0, 20, 0});
  CHECK_FALSE(r.indices.requires_grad());
}

TEST_CASE("max: gradient check over every dim, with and without keepdim") {
  // Spread values: a finite-difference step never changes the argmax.
  std::vector<float> v(60);
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>((i * 37) % 60) * 0.1f;
  Tensor x = Tensor::from_vector(v, {3, 4, 5}).set_requires_grad();
  for (int64_t d = 0; d < 3; ++d)
    for (bool keep : {false, true})
      testing::check_gradients([d, keep](const std::vector<Tensor>& in) { return max(in[0], d, keep).values; }, {x});
}

TEST_CASE("max: errors") {
  Tensor x = Tensor::zeros({2, 3});
  CHECK_THROWS_WITH_AS(max(x, 2), doctest::Contains("max: dim 2 is out of range for f32[2, 3]"), Error);
  CHECK_THROWS_WITH_AS(max(Tensor::zeros({2, 0}), 1), doctest::Contains("is empty"), Error);
  CHECK(max(Tensor::zeros({0, 3}), 1).values.shape() == Shape{0});
  CHECK_THROWS_WITH_AS(max(Tensor::zeros({2}, DType::i64), 0), doctest::Contains("max"), Error);
}

TEST_SUITE("cuda") {
  TEST_CASE("max: CPU-vs-CUDA parity over every dim (values, indices, gradients)") {
    Tensor x = testing::randn({7, 33, 5}, 2).set_requires_grad();
    for (int64_t d = 0; d < 3; ++d) {
      testing::check_parity([d](const std::vector<Tensor>& in) { return max(in[0], d).values; }, {x}, 0.0f, 0.0f);
      testing::check_parity([d](const std::vector<Tensor>& in) { return max(in[0], d).indices; }, {x}, 0.0f, 0.0f);
    }
  }
}
