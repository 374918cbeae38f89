#include "core/autograd.h"
#include "ops/concat.h"
#include "ops/elementwise.h"
#include "tests/testing.h"

using namespace curec;
using testing::randn;

TEST_CASE("concat joins along dim 1, dim 0 and an inner dim") {
  Tensor a = Tensor::from_vector<float>({1, 2, 3, 4}, {2, 2});
  Tensor b = Tensor::from_vector<float>({5, 6}, {2, 1});
  Tensor c = concat({a, b});
  CHECK(c.shape() == Shape{2, 3});
  CHECK(c.to_vector<float>() == std::vector<float>{1, 2, 5, 3, 4, 6});
  Tensor d = concat({a, Tensor::from_vector<float>({7, 8}, {1, 2})}, 0);
  CHECK(d.to_vector<float>() == std::vector<float>{1, 2, 3, 4, 7, 8});
  CHECK(concat({b, a}, -1).to_vector<float>() == std::vector<float>{5, 1, 2, 6, 3, 4});
  // [2, 1, 2] ++ [2, 2, 2] along dim 1: each outer slice holds the first's row, then the second's two.
  Tensor x = Tensor::from_vector<float>({1, 2, 3, 4}, {2, 1, 2});
  Tensor y = Tensor::from_vector<float>({10, 11, 12, 13, 14, 15, 16, 17}, {2, 2, 2});
  Tensor z = concat({x, y}, 1);
  CHECK(z.shape() == Shape{2, 3, 2});
  CHECK(z.to_vector<float>() == std::vector<float>{1, 2, 10, 11, 12, 13, 3, 4, 14, 15, 16, 17});
  CHECK(concat({a, Tensor::empty({2, 0})}).to_vector<float>() == a.to_vector<float>());
}

TEST_CASE("concat rejects inputs that disagree outside dim") {
  Tensor a = Tensor::zeros({2, 3});
  CHECK_THROWS_WITH_AS(concat({a, Tensor::zeros({3, 3})}),
                       doctest::Contains("input 1 f32[3, 3] on cpu does not match input 0 f32[2, 3]"), Error);
  CHECK_THROWS_WITH_AS(concat({a, Tensor::zeros({2})}), doctest::Contains("does not match"), Error);
  CHECK_THROWS_WITH_AS(concat({}), doctest::Contains("no tensors"), Error);
  CHECK_THROWS_WITH_AS(concat({a, a}, 2), doctest::Contains("out of range"), Error);
  CHECK_THROWS_AS(concat({a, Tensor::zeros({2, 3}, DType::i64)}), Error);
}

TEST_CASE("narrow copies a slice and split cuts consecutive pieces") {
  Tensor x = Tensor::from_vector<float>({0, 1, 2, 3, 4, 5, 6, 7}, {2, 4});
  Tensor n = narrow(x, 1, 1, 2);
  CHECK(n.shape() == Shape{2, 2});
  CHECK(n.to_vector<float>() == std::vector<float>{1, 2, 5, 6});
  CHECK(n.data<float>() != x.data<float>());
  CHECK(narrow(x, 0, 1, 1).to_vector<float>() == std::vector<float>{4, 5, 6, 7});
  CHECK_THROWS_WITH_AS(narrow(x, 1, 3, 2), doctest::Contains("[3, 5) is out of range for dim 1"), Error);
  std::vector<Tensor> parts = split(x, {1, 3});
  REQUIRE(parts.size() == 2);
  CHECK(parts[0].to_vector<float>() == std::vector<float>{0, 4});
  CHECK(parts[1].to_vector<float>() == std::vector<float>{1, 2, 3, 5, 6, 7});
  CHECK(concat(parts).to_vector<float>() == x.to_vector<float>());
  CHECK_THROWS_WITH_AS(split(x, {1, 2}), doctest::Contains("sizes add up to 3"), Error);
}

TEST_CASE("concat, narrow and split: gradient checks") {
  Tensor a = randn({3, 2, 4}, 1), b = randn({3, 3, 4}, 2), c = randn({3, 1, 4}, 3);
  a.set_requires_grad();
  b.set_requires_grad();
  c.set_requires_grad();
  for (int64_t dim : {0, 2}) {
    Tensor p = randn({3, 2, 4}, 4), q = randn({3, 2, 4}, 5);
    p.set_requires_grad();
    q.set_requires_grad();
    testing::check_gradients([dim](const std::vector<Tensor>& in) { return concat(in, dim); }, {p, q});
  }
  testing::check_gradients([](const std::vector<Tensor>& in) { return concat(in, 1); }, {a, b, c});
  Tensor fixed = randn({3, 5, 4}, 6);  // an input without requires_grad gets no gradient
  testing::check_gradients([](const std::vector<Tensor>& in) { return concat(in, 1); }, {a, fixed});
  CHECK_FALSE(fixed.grad().defined());
  testing::check_gradients([](const std::vector<Tensor>& in) { return narrow(in[0], 1, 1, 2); }, {b});
  testing::check_gradients([](const std::vector<Tensor>& in) { return narrow(in[0], 2, 3, 1); }, {b});
  testing::check_gradients(
      [](const std::vector<Tensor>& in) {
        std::vector<Tensor> s = split(in[0], {1, 2}, 1);
        return s[0] * 2.0f + square(narrow(s[1], 1, 1, 1));
      },
      {b});
}

TEST_SUITE("cuda") {
  TEST_CASE("concat, narrow and split: CPU-vs-CUDA parity at odd sizes") {
    Tensor a = randn({33, 17}, 7), b = randn({33, 65}, 8), c = randn({33, 1}, 9);
    a.set_requires_grad();
    b.set_requires_grad();
    c.set_requires_grad();
    testing::check_parity([](const std::vector<Tensor>& in) { return concat(in, 1); }, {a, b, c});
    testing::check_parity([](const std::vector<Tensor>& in) { return concat({in[0], in[0]}, 0); }, {a});
    Tensor x = randn({5, 7, 9}, 10), y = randn({5, 3, 9}, 11);
    x.set_requires_grad();
    y.set_requires_grad();
    testing::check_parity([](const std::vector<Tensor>& in) { return concat(in, 1); }, {x, y});
    testing::check_parity([](const std::vector<Tensor>& in) { return narrow(in[0], 1, 2, 4); }, {x});
    testing::check_parity([](const std::vector<Tensor>& in) { return narrow(in[0], 2, 5, 3); }, {x});
    testing::check_parity([](const std::vector<Tensor>& in) { return narrow(in[0], 0, 1, 3); }, {x});
    testing::check_parity(
        [](const std::vector<Tensor>& in) {
          std::vector<Tensor> s = split(in[0], {10, 7}, 1);
          return concat({square(s[1]), s[0]}, 1);
        },
        {a});
  }
}
