#include "ops/reduce.h"
#include "tests/testing.h"

using namespace curec;
using testing::randn;

TEST_CASE("sum and mean over everything and over one dim") {
  Tensor x = Tensor::from_vector<float>({1, 2, 3, 4, 5, 6}, {2, 3});
  CHECK(sum(x).item() == 21.0f);
  CHECK(mean(x).item() == 3.5f);
  CHECK(sum(x, 0).to_vector<float>() == std::vector<float>{5, 7, 9});
  CHECK(sum(x, 1).to_vector<float>() == std::vector<float>{6, 15});
  CHECK(sum(x, -1, true).shape() == Shape{2, 1});
  CHECK(mean(x, 0, true).shape() == Shape{1, 3});
  CHECK(mean(x, 1).to_vector<float>() == std::vector<float>{2, 5});
  CHECK_THROWS_AS(sum(x, 2), Error);
}

TEST_CASE("reductions: gradient check over every dim, with and without keepdim") {
  Tensor x = randn({3, 4, 2}, 1);
  x.set_requires_grad();
  for (int64_t d = 0; d < 3; ++d)
    for (bool keep : {false, true}) {
      testing::check_gradients([d, keep](const std::vector<Tensor>& in) { return sum(in[0], d, keep); }, {x});
      testing::check_gradients([d, keep](const std::vector<Tensor>& in) { return mean(in[0], d, keep); }, {x});
    }
}

TEST_SUITE("cuda") {
  TEST_CASE("reductions: CPU-vs-CUDA parity") {
    Tensor x = randn({37, 300, 3}, 2);
    x.set_requires_grad();
    testing::check_parity([](const std::vector<Tensor>& in) { return sum(in[0]); }, {x}, 1e-2f, 1e-4f);
    testing::check_parity([](const std::vector<Tensor>& in) { return mean(in[0]); }, {x});
    for (int64_t d = 0; d < 3; ++d) {
      testing::check_parity([d](const std::vector<Tensor>& in) { return sum(in[0], d); }, {x}, 1e-3f, 1e-4f);
      testing::check_parity([d](const std::vector<Tensor>& in) { return mean(in[0], d, true); }, {x});
    }
  }
}

TEST_CASE("reductions: every dim of a 4-D tensor, negative dims, keepdim shapes") {
  Tensor x = randn({2, 3, 4, 5}, 3);
  std::vector<float> v = x.to_vector<float>();
  for (int64_t dim = -4; dim < 4; ++dim)
    for (bool keep : {false, true}) {
      CAPTURE(dim);
      CAPTURE(keep);
      const int64_t d = dim < 0 ? dim + 4 : dim;
      Shape expect = x.shape();
      if (keep) expect[d] = 1;
      else expect.erase(expect.begin() + d);
      Tensor s = sum(x, dim, keep), m = mean(x, dim, keep);
      CHECK(s.shape() == expect);
      CHECK(m.shape() == expect);
      // Output element 0 sums x over dim at index 0 of every other dim.
      int64_t stride = 1;
      for (int64_t i = d + 1; i < 4; ++i) stride *= x.size(i);
      double ref = 0;
      for (int64_t j = 0; j < x.size(d); ++j) ref += v[j * stride];
      CHECK(s.to_vector<float>()[0] == doctest::Approx(ref).epsilon(1e-5));
      CHECK(m.to_vector<float>()[0] == doctest::Approx(ref / x.size(d)).epsilon(1e-5));
    }
  CHECK_THROWS_WITH_AS(sum(x, -5), doctest::Contains("sum: dim -5 out of range"), Error);
  CHECK_THROWS_WITH_AS(mean(x, 4), doctest::Contains("mean: dim 4 out of range"), Error);
}
