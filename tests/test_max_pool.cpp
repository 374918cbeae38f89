#include <cmath>
#include <limits>

#include "ops/max_pool.h"
#include "tests/testing.h"

using namespace curec;

namespace {

// Values with no ties and gaps far larger than the finite-difference step: a scrambled ramp.
Tensor distinct(const Shape& shape, int64_t salt) {
  int64_t n = shape_numel(shape);
  std::vector<float> v(n);
  for (int64_t i = 0; i < n; ++i) v[i] = static_cast<float>(((i + salt) * 7919) % 1009) * 0.05f - 25.0f;
  return Tensor::from_vector(v, shape);
}

Tensor pool_fn(const std::vector<Tensor>& in, int64_t kernel, int64_t stride) {
  return max_pool1d(in[0], kernel, stride);
}

}  // namespace

TEST_CASE("max_pool1d: known windows") {
  Tensor x = Tensor::from_vector<float>({1, 5, 2, 0, 7, 3, -1, -4, -2, -6, -3, -5}, {1, 2, 6});
  CHECK(max_pool1d(x, 3).shape() == Shape{1, 2, 2});
  CHECK(max_pool1d(x, 3).to_vector<float>() == std::vector<float>{5, 7, -1, -3});
  CHECK(max_pool1d(x, 6).to_vector<float>() == std::vector<float>{7, -1});  // Caser: kernel = L
  CHECK(max_pool1d(x, 2, 1).to_vector<float>() == std::vector<float>{5, 5, 2, 7, 7, -1, -2, -2, -3, -3});
  // (6 - 4) / 3 + 1 = 1 window: the tail that no window covers is dropped.
  CHECK(max_pool1d(x, 4, 3).to_vector<float>() == std::vector<float>{5, -1});
  CHECK(max_pool1d(x, 1).to_vector<float>() == x.to_vector<float>());
}

TEST_CASE("max_pool1d: backward routes to the argmax, first one on ties") {
  Tensor x = Tensor::from_vector<float>({1, 5, 2, 0, 3, 3, 1, 3}, {2, 1, 4});
  x.set_requires_grad();
  Tensor y = max_pool1d(x, 2, 1);  // overlapping windows accumulate
  y.backward(Tensor::from_vector<float>({1, 10, 100, 1, 10, 100}, {2, 1, 3}));
  // Row 0: windows {1,5},{5,2},{2,0} -> maxima at 1, 1, 2. Row 1: {3,3},{3,1},{1,3} -> 0 (first of
  // the tie), 1, 3.
  CHECK(x.grad().to_vector<float>() == std::vector<float>{0, 11, 100, 0, 1, 10, 0, 100});
  x.zero_grad();
  max_pool1d(x, 4).backward(Tensor::ones({2, 1, 1}));
  CHECK(x.grad().to_vector<float>() == std::vector<float>{0, 1, 0, 0, 1, 0, 0, 0});
}

TEST_CASE("max_pool1d: NaN wins its window") {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  Tensor x = Tensor::from_vector<float>({1, nan, 2, 3}, {1, 1, 4});
  std::vector<float> y = max_pool1d(x, 2).to_vector<float>();
  CHECK(std::isnan(y[0]));
  CHECK(y[1] == 3.0f);
}

TEST_CASE("max_pool1d: gradient check") {
  Tensor x = distinct({3, 4, 7}, 1);
  x.set_requires_grad();
  for (auto [kernel, stride] : {std::pair<int64_t, int64_t>{7, 0}, {3, 0}, {3, 2}, {2, 1}, {1, 1}})
    testing::check_gradients([k = kernel, s = stride](const std::vector<Tensor>& in) { return pool_fn(in, k, s); },
                             {x});
}

TEST_CASE("max_pool1d: errors") {
  Tensor x = distinct({2, 3, 5}, 2);
  CHECK_THROWS_WITH_AS(max_pool1d(x, 6), doctest::Contains("larger than the sequence length"), Error);
  CHECK_THROWS_AS(max_pool1d(x, 0), Error);
  CHECK_THROWS_AS(max_pool1d(x, 2, -1), Error);
  CHECK_THROWS_WITH_AS(max_pool1d(distinct({2, 5}, 3), 2), doctest::Contains("[N, C, L]"), Error);
}

TEST_CASE("max_pool1d: empty batch") {
  Tensor x = Tensor::zeros({0, 3, 5});
  x.set_requires_grad();
  Tensor y = max_pool1d(x, 5);
  CHECK(y.shape() == Shape{0, 3, 1});
  y.backward(Tensor::zeros(y.shape()));
  CHECK(x.grad().shape() == Shape{0, 3, 5});
}

TEST_SUITE("cuda") {
  TEST_CASE("max_pool1d: CPU-vs-CUDA parity") {
    Tensor x = testing::randn({16, 8, 9}, 3);  // random normals: ties have probability zero
    x.set_requires_grad();
    for (auto [kernel, stride] : {std::pair<int64_t, int64_t>{9, 0}, {3, 0}, {4, 2}, {2, 1}, {5, 3}})
      testing::check_parity([k = kernel, s = stride](const std::vector<Tensor>& in) { return pool_fn(in, k, s); },
                            {x}, 0.0f, 0.0f);
  }

  TEST_CASE("max_pool1d: cuDNN deterministic mode also sends ties to the first maximum") {
    Tensor x = Tensor::from_vector<float>({3, 3, 1, 2, 2, 2, 0, 4, 4, 4, -1, 4}, {2, 1, 6});
    x.set_requires_grad();
    for (auto [kernel, stride] : {std::pair<int64_t, int64_t>{6, 0}, {3, 0}, {2, 1}})
      testing::check_parity([k = kernel, s = stride](const std::vector<Tensor>& in) { return pool_fn(in, k, s); },
                            {x}, 0.0f, 0.0f);
  }
}
