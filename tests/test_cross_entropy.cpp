#include <cmath>
#include <vector>

#include "core/autograd.h"
#include "ops/cross_entropy.h"
#include "ops/softmax.h"
#include "tests/testing.h"

using namespace curec;
using testing::all_finite;
using testing::randn;

namespace {
// −log softmax(x_i)[t_i] from log_softmax, a row at a time.
float row_loss(const Tensor& x, int64_t i, int64_t t) { return -log_softmax(x).to_vector<float>()[i * x.size(1) + t]; }
}  // namespace

TEST_CASE("cross_entropy: −log softmax at the target, mean over the rows not ignored") {
  Tensor x = randn({4, 5}, 1, 2.0f);
  Tensor t = Tensor::from_vector<int64_t>({2, -100, 0, 4});
  const float l0 = row_loss(x, 0, 2), l2 = row_loss(x, 2, 0), l3 = row_loss(x, 3, 4);
  std::vector<float> none = cross_entropy(x, t, -100, Reduction::none).to_vector<float>();
  REQUIRE(none.size() == 4);
  CHECK(none[0] == doctest::Approx(l0).epsilon(1e-5));
  CHECK(none[1] == 0.0f);
  CHECK(none[2] == doctest::Approx(l2).epsilon(1e-5));
  CHECK(none[3] == doctest::Approx(l3).epsilon(1e-5));
  CHECK(cross_entropy(x, t, -100, Reduction::sum).item() == doctest::Approx(l0 + l2 + l3).epsilon(1e-5));
  CHECK(cross_entropy(x, t).item() == doctest::Approx((l0 + l2 + l3) / 3).epsilon(1e-5));
  CHECK(cross_entropy(x, t).shape() == Shape{});
  // i32 targets and another ignore index.
  Tensor t32 = Tensor::from_vector<int32_t>({2, 1, 0, 4});
  CHECK(cross_entropy(x, t32, 1).item() == doctest::Approx((l0 + l2 + l3) / 3).epsilon(1e-5));
}

TEST_CASE("cross_entropy: the gradient is (softmax − onehot) / counted rows; ignored rows get zeros") {
  Tensor x = randn({3, 4}, 2).set_requires_grad();
  Tensor t = Tensor::from_vector<int64_t>({3, -100, 1});
  cross_entropy(x, t).backward();
  std::vector<float> p = softmax(x.detach()).to_vector<float>(), g = x.grad().to_vector<float>();
  for (int j = 0; j < 4; ++j) {
    CHECK(g[j] == doctest::Approx((p[j] - (j == 3)) / 2).epsilon(1e-5));
    CHECK(g[4 + j] == 0.0f);
    CHECK(g[8 + j] == doctest::Approx((p[8 + j] - (j == 1)) / 2).epsilon(1e-5));
  }
}

TEST_CASE("cross_entropy: every row ignored gives 0 and a zero gradient, not NaN") {
  Tensor x = randn({3, 4}, 3).set_requires_grad();
  Tensor t = Tensor::from_vector<int64_t>({-100, -100, -100});
  Tensor loss = cross_entropy(x, t);
  CHECK(loss.item() == 0.0f);
  loss.backward();
  for (float v : x.grad().to_vector<float>()) CHECK(v == 0.0f);
  CHECK(cross_entropy(Tensor::empty({0, 4}), Tensor::empty({0}, DType::i64)).item() == 0.0f);
}

TEST_CASE("cross_entropy: stable for huge logits") {
  Tensor x = Tensor::from_vector<float>({1000.0f, 0.0f, -1000.0f, 5000.0f, 5001.0f, 4999.0f}, {2, 3});
  Tensor loss = cross_entropy(x, Tensor::from_vector<int64_t>({2, 1}), -100, Reduction::none);
  CHECK(all_finite(loss));
  CHECK(loss.to_vector<float>()[0] == doctest::Approx(2000.0f));
  CHECK(loss.to_vector<float>()[1] == doctest::Approx(std::log(1 + std::exp(-1.0) + std::exp(-2.0))));
}

TEST_CASE("cross_entropy: bad input is a clear error") {
  Tensor x = randn({2, 3}, 4);
  CHECK(testing::error_of([&] { cross_entropy(x, Tensor::from_vector<int64_t>({0, 3})); })
            .find("target 3 of row 1 is out of range for 3 classes") != std::string::npos);
  CHECK(testing::error_of([&] { cross_entropy(x, Tensor::from_vector<int64_t>({-1, 0})); })
            .find("out of range") != std::string::npos);
  CHECK(testing::error_of([&] { cross_entropy(x, Tensor::from_vector<float>({0, 1})); }).find("i64 or i32") !=
        std::string::npos);
  CHECK(testing::error_of([&] { cross_entropy(x, Tensor::from_vector<int64_t>({0, 1, 2})); }).find("[N, C] and [N]") !=
        std::string::npos);
  CHECK(testing::error_of([&] { cross_entropy(randn({2, 3, 1}, 5), Tensor::from_vector<int64_t>({0, 1})); })
            .find("[N, C]") != std::string::npos);
}

TEST_SUITE("cuda") {
  TEST_CASE("cross_entropy on CUDA: parity over many classes, all rows ignored, and a target out of range") {
    std::vector<int64_t> t = testing::randint({37}, 700, 6).to_vector<int64_t>();
    t[5] = t[20] = -100;
    for (Reduction r : {Reduction::none, Reduction::mean, Reduction::sum})
      testing::check_parity(
          [r](const std::vector<Tensor>& in) { return cross_entropy(in[0], in[1], -100, r); },
          {randn({37, 700}, 7, 3.0f).set_requires_grad(), Tensor::from_vector(t)}, 1e-5f, 1e-4f);
    testing::check_parity([](const std::vector<Tensor>& in) { return cross_entropy(in[0], in[1]); },
                          {randn({3, 5}, 8).set_requires_grad(), Tensor::from_vector<int64_t>({-100, -100, -100})});
    Device gpu = Device::cuda(0);
    Tensor bad = cross_entropy(randn({2, 5}, 9).to(gpu), Tensor::from_vector<int64_t>({1, 7}).to(gpu));
    CHECK_THROWS_WITH_AS(bad.item(), doctest::Contains("target 7 is out of range for 5 classes"), Error);
  }
}
