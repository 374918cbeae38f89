// permute and transpose (ops/permute.h): contiguous results, inverse-order gradients, errors.
#include "ops/permute.h"
#include "tests/testing.h"

using namespace curec;
using testing::randn;

TEST_CASE("permute: y[i0, i1, i2] = x at the permuted index") {
  Tensor x = randn({2, 3, 4}, 1);
  std::vector<float> v = x.to_vector<float>();
  Tensor y = permute(x, {2, 0, 1});
  REQUIRE(y.shape() == Shape{4, 2, 3});
  std::vector<float> w = y.to_vector<float>();
  for (int64_t a = 0; a < 4; ++a)
    for (int64_t b = 0; b < 2; ++b)
      for (int64_t c = 0; c < 3; ++c) CHECK(w[(a * 2 + b) * 3 + c] == v[(b * 3 + c) * 4 + a]);
  CHECK(permute(x, {-3, -1, -2}).shape() == Shape{2, 4, 3});
}

TEST_CASE("transpose: swaps two dims; the last two of a matrix give its transpose") {
  Tensor m = Tensor::from_vector<float>({1, 2, 3, 4, 5, 6}, {2, 3});
  CHECK(transpose(m, 0, 1).to_vector<float>() == std::vector<float>{1, 4, 2, 5, 3, 6});
  CHECK(transpose(m, -1, -2).shape() == Shape{3, 2});
  // Heads out of [B, L, H, D]: [B, H, L, D].
  Tensor x = randn({2, 5, 3, 4}, 2);
  Tensor y = transpose(x, 1, 2);
  CHECK(y.shape() == Shape{2, 3, 5, 4});
  CHECK(transpose(y, 1, 2).to_vector<float>() == x.to_vector<float>());
  CHECK(transpose(x, 2, 2).to_vector<float>() == x.to_vector<float>());
}

TEST_CASE("permute: gradient check at every rank up to 4") {
  const std::vector<std::pair<Shape, std::vector<int64_t>>> cases = {
      {{5}, {0}}, {{3, 4}, {1, 0}}, {{2, 3, 4}, {1, 2, 0}}, {{2, 3, 4, 2}, {3, 1, 0, 2}}, {{2, 1, 3, 2}, {0, 2, 1, 3}}};
  for (const auto& c : cases) {
    CAPTURE(shape_str(c.first));
    Tensor x = randn(c.first, 3).set_requires_grad();
    std::vector<int64_t> dims = c.second;
    testing::check_gradients([dims](const std::vector<Tensor>& in) { return permute(in[0], dims); }, {x});
  }
}

TEST_CASE("permute: the result owns its storage, and empty tensors permute") {
  Tensor x = randn({2, 3}, 4);
  Tensor y = permute(x, {0, 1});
  CHECK(y.to_vector<float>() == x.to_vector<float>());
  CHECK(y.storage() != x.storage());
  CHECK(permute(Tensor::zeros({0, 3}), {1, 0}).shape() == Shape{3, 0});
}

TEST_CASE("permute: bad orders are errors that name the order and the tensor") {
  Tensor x = Tensor::zeros({2, 3, 4});
  CHECK_THROWS_WITH_AS(permute(x, {0, 1}), doctest::Contains("names 2 dims but f32[2, 3, 4] on cpu has 3"), Error);
  CHECK_THROWS_WITH_AS(permute(x, {0, 1, 1}), doctest::Contains("appears twice in (0, 1, 1)"), Error);
  CHECK_THROWS_WITH_AS(permute(x, {0, 1, 3}), doctest::Contains("dim 3 in (0, 1, 3) is out of range"), Error);
  CHECK_THROWS_WITH_AS(permute(Tensor::zeros({1, 1, 1, 1, 1}), {0, 1, 2, 3, 4}), doctest::Contains("more than 4"),
                       Error);
  CHECK_THROWS_WITH_AS(transpose(x, 0, 3), doctest::Contains("transpose: dim 3 is out of range"), Error);
  CHECK_THROWS_WITH_AS(permute(Tensor::zeros({2}, DType::i64), {0}), doctest::Contains("permute"), Error);
}

TEST_SUITE("cuda") {
  TEST_CASE("permute: CPU-vs-CUDA parity") {
    Tensor x = randn({3, 17, 5, 9}, 5).set_requires_grad();
    for (std::vector<int64_t> dims : {std::vector<int64_t>{0, 2, 1, 3}, {3, 2, 1, 0}, {1, 3, 0, 2}})
      testing::check_parity([dims](const std::vector<Tensor>& in) { return permute(in[0], dims); }, {x}, 0.0f, 0.0f);
  }
}
