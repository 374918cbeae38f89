#include "core/autograd.h"
#include "ops/linear.h"
#include "tests/testing.h"

using namespace curec;
using testing::randn;

TEST_CASE("linear computes x W^T + b") {
  Tensor x = Tensor::from_vector<float>({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor w = Tensor::from_vector<float>({1, 0, -1, 2, 1, 0}, {2, 3});  // [out=2, in=3]
  Tensor b = Tensor::from_vector<float>({10, 100}, {2});
  CHECK(linear(x, w).to_vector<float>() == std::vector<float>{-2, 4, -2, 13});
  Tensor y = linear(x, w, b);
  CHECK(y.shape() == Shape{2, 2});
  CHECK(y.to_vector<float>() == std::vector<float>{8, 104, 8, 113});
}

TEST_CASE("linear handles a single sample and a single output") {
  Tensor x = Tensor::from_vector<float>({1, 2}, {1, 2});
  Tensor w = Tensor::from_vector<float>({3, 4}, {1, 2});
  CHECK(linear(x, w, Tensor::from_vector<float>({0.5f}, {1})).to_vector<float>() == std::vector<float>{11.5f});
  CHECK(linear(Tensor::empty({0, 2}), w, Tensor::zeros({1})).shape() == Shape{0, 1});
}

TEST_CASE("linear rejects mismatched shapes with a message naming them") {
  Tensor x = Tensor::zeros({4, 3});
  CHECK_THROWS_WITH_AS(linear(x, Tensor::zeros({5, 2})), doctest::Contains("has 3 features but weight f32[5, 2]"),
                       Error);
  CHECK_THROWS_WITH_AS(linear(x, Tensor::zeros({5, 3}), Tensor::zeros({4})), doctest::Contains("must be [5]"), Error);
  CHECK_THROWS_WITH_AS(linear(Tensor::zeros({3}), Tensor::zeros({5, 3})), doctest::Contains("x [batch, in]"), Error);
}

TEST_CASE("linear: gradient check without bias (with bias: the op table)") {
  Tensor x = randn({4, 3}, 1), w = randn({5, 3}, 2);
  x.set_requires_grad();
  w.set_requires_grad();
  testing::check_gradients([](const std::vector<Tensor>& in) { return linear(in[0], in[1]); }, {x, w});
}

TEST_SUITE("cuda") {
  TEST_CASE("linear: CPU-vs-CUDA parity at odd sizes") {
    Tensor x = randn({33, 17}, 4), w = randn({65, 17}, 5), b = randn({65}, 6);
    x.set_requires_grad();
    w.set_requires_grad();
    b.set_requires_grad();
    testing::check_parity([](const std::vector<Tensor>& in) { return linear(in[0], in[1], in[2]); }, {x, w, b});
    testing::check_parity([](const std::vector<Tensor>& in) { return linear(in[0], in[1]); }, {x, w});
  }
}
