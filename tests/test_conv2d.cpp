#include <cmath>

#include "ops/conv2d.h"
#include "ops/max_pool.h"
#include "tests/testing.h"

using namespace curec;
using testing::randn;

namespace {

// Direct six-loop convolution, independent of the im2col + sgemm path under test.
Tensor naive_conv2d(const Tensor& x, const Tensor& w, const Tensor& b) {
  int64_t n = x.size(0), c = x.size(1), h = x.size(2), wd = x.size(3);
  int64_t o = w.size(0), kh = w.size(2), kw = w.size(3), oh = h - kh + 1, ow = wd - kw + 1;
  std::vector<float> px = x.to_vector<float>(), pw = w.to_vector<float>();
  std::vector<float> pb = b.defined() ? b.to_vector<float>() : std::vector<float>(o, 0.0f);
  std::vector<float> y(n * o * oh * ow);
  for (int64_t s = 0; s < n; ++s)
    for (int64_t f = 0; f < o; ++f)
      for (int64_t p = 0; p < oh; ++p)
        for (int64_t q = 0; q < ow; ++q) {
          double acc = pb[f];
          for (int64_t ch = 0; ch < c; ++ch)
            for (int64_t i = 0; i < kh; ++i)
              for (int64_t j = 0; j < kw; ++j)
                acc += double(px[((s * c + ch) * h + p + i) * wd + q + j]) * pw[((f * c + ch) * kh + i) * kw + j];
          y[((s * o + f) * oh + p) * ow + q] = static_cast<float>(acc);
        }
  return Tensor::from_vector(y, {n, o, oh, ow});
}

Tensor conv_fn(const std::vector<Tensor>& in) { return conv2d(in[0], in[1], in.size() > 2 ? in[2] : Tensor()); }

}  // namespace

TEST_CASE("conv2d: hand-computed 3x3 image, 2x2 filter") {
  Tensor x = Tensor::from_vector<float>({1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 1, 3, 3});
  Tensor w = Tensor::from_vector<float>({1, 2, 3, 4}, {1, 1, 2, 2});
  Tensor y = conv2d(x, w);
  CHECK(y.shape() == Shape{1, 1, 2, 2});
  // y[p][q] = 1*x[p][q] + 2*x[p][q+1] + 3*x[p+1][q] + 4*x[p+1][q+1]
  CHECK(y.to_vector<float>() == std::vector<float>{37, 47, 67, 77});
  Tensor b = Tensor::from_vector<float>({0.5f}, {1});
  CHECK(conv2d(x, w, b).to_vector<float>() == std::vector<float>{37.5f, 47.5f, 67.5f, 77.5f});
}

TEST_CASE("conv2d: several channels and filters match direct loops") {
  Tensor x = randn({2, 3, 6, 5}, 11), w = randn({4, 3, 3, 2}, 12), b = randn({4}, 13);
  testing::check_close(conv2d(x, w, b), naive_conv2d(x, w, b), 1e-4f, 1e-4f, "with bias");
  testing::check_close(conv2d(x, w), naive_conv2d(x, w, Tensor()), 1e-4f, 1e-4f, "without bias");
  // A kernel as large as the image gives one output pixel per filter.
  Tensor full = randn({4, 3, 6, 5}, 14);
  CHECK(conv2d(x, full).shape() == Shape{2, 4, 1, 1});
  testing::check_close(conv2d(x, full), naive_conv2d(x, full, Tensor()), 1e-4f, 1e-4f, "full kernel");
}

TEST_CASE("conv2d: Caser shapes (B=3, L=5, k=10, d=16 horizontal, d'=4 vertical)") {
  const int64_t B = 3, L = 5, k = 10, d = 16, dv = 4;
  Tensor image = randn({B, 1, L, k}, 21);  // embeddings of the last L items
  for (int64_t h = 1; h <= L; ++h) {
    Tensor wh = randn({d, 1, h, k}, 100 + h), bh = randn({d}, 200 + h);
    Tensor conv = conv2d(image, wh, bh);
    REQUIRE(conv.shape() == Shape{B, d, L - h + 1, 1});
    testing::check_close(conv, naive_conv2d(image, wh, bh), 1e-4f, 1e-4f, "horizontal h=" + std::to_string(h));
    // Max over time of each filter's feature map.
    Tensor pooled = max_pool1d(conv.view({B, d, L - h + 1}), L - h + 1);
    REQUIRE(pooled.shape() == Shape{B, d, 1});
    std::vector<float> c = conv.to_vector<float>(), p = pooled.to_vector<float>();
    for (int64_t r = 0; r < B * d; ++r) {
      float m = c[r * (L - h + 1)];
      for (int64_t t = 1; t < L - h + 1; ++t) m = std::max(m, c[r * (L - h + 1) + t]);
      CHECK(p[r] == m);
    }
  }
  Tensor wv = randn({dv, 1, L, 1}, 31), bv = randn({dv}, 32);
  Tensor vert = conv2d(image, wv, bv);
  REQUIRE(vert.shape() == Shape{B, dv, 1, k});
  // A vertical filter is a weighted sum of the L embeddings, coordinate by coordinate.
  std::vector<float> xi = image.to_vector<float>(), wi = wv.to_vector<float>(), bi = bv.to_vector<float>();
  std::vector<float> v = vert.to_vector<float>();
  for (int64_t s = 0; s < B; ++s)
    for (int64_t f = 0; f < dv; ++f)
      for (int64_t j = 0; j < k; ++j) {
        double acc = bi[f];
        for (int64_t i = 0; i < L; ++i) acc += double(wi[f * L + i]) * xi[(s * L + i) * k + j];
        CHECK(v[(s * dv + f) * k + j] == doctest::Approx(acc).epsilon(1e-5));
      }
}

TEST_CASE("conv2d: gradient check without bias, and of Caser's filters (with bias: the op table)") {
  Tensor x = randn({2, 2, 5, 4}, 41), w = randn({3, 2, 2, 3}, 42);
  x.set_requires_grad();
  w.set_requires_grad();
  testing::check_gradients(conv_fn, {x, w});
  // Caser's filters: a horizontal h x k and a vertical L x 1 filter on a one-channel image.
  Tensor image = randn({3, 1, 5, 6}, 44), wh = randn({2, 1, 3, 6}, 45), wv = randn({2, 1, 5, 1}, 46);
  Tensor bh = randn({2}, 47);
  image.set_requires_grad();
  wh.set_requires_grad();
  wv.set_requires_grad();
  bh.set_requires_grad();
  testing::check_gradients(conv_fn, {image, wh, bh});
  testing::check_gradients(conv_fn, {image, wv});
}

TEST_CASE("conv2d: only inputs that require grad get one") {
  Tensor x = randn({1, 1, 4, 4}, 51), w = randn({2, 1, 2, 2}, 52), b = randn({2}, 53);
  w.set_requires_grad();
  Tensor y = conv2d(x, w, b);
  y.backward(Tensor::ones(y.shape()));
  CHECK(!x.grad().defined());
  CHECK(!b.grad().defined());
  // With all-ones upstream gradient, dweight[f][i][j] is the sum of the pixels it touched.
  std::vector<float> xs = x.to_vector<float>(), dw = w.grad().to_vector<float>();
  for (int64_t i = 0; i < 2; ++i)
    for (int64_t j = 0; j < 2; ++j) {
      double acc = 0;
      for (int64_t p = 0; p < 3; ++p)
        for (int64_t q = 0; q < 3; ++q) acc += xs[(p + i) * 4 + q + j];
      CHECK(dw[i * 2 + j] == doctest::Approx(acc).epsilon(1e-5));
      CHECK(dw[4 + i * 2 + j] == doctest::Approx(acc).epsilon(1e-5));
    }
}

TEST_CASE("conv2d: an empty batch gives an empty output and zero filter gradients") {
  Tensor x = Tensor::zeros({0, 1, 4, 4}), w = randn({2, 1, 2, 2}, 61), b = randn({2}, 62);
  w.set_requires_grad();
  b.set_requires_grad();
  Tensor y = conv2d(x, w, b);
  CHECK(y.shape() == Shape{0, 2, 3, 3});
  y.backward(Tensor::zeros(y.shape()));
  CHECK(w.grad().to_vector<float>() == std::vector<float>(8, 0.0f));
  CHECK(b.grad().to_vector<float>() == std::vector<float>(2, 0.0f));
}

TEST_CASE("conv2d: errors name the mismatch") {
  Tensor x = randn({2, 3, 5, 5}, 71);
  CHECK_THROWS_WITH_AS(conv2d(x, randn({4, 2, 3, 3}, 72)), doctest::Contains("input channels"), Error);
  CHECK_THROWS_WITH_AS(conv2d(x, randn({4, 3, 6, 3}, 73)), doctest::Contains("larger than the input"), Error);
  CHECK_THROWS_WITH_AS(conv2d(x, randn({4, 3, 3, 6}, 74)), doctest::Contains("larger than the input"), Error);
  CHECK_THROWS_WITH_AS(conv2d(x, randn({4, 3, 3, 3}, 75), randn({3}, 76)), doctest::Contains("bias"), Error);
  CHECK_THROWS_WITH_AS(conv2d(randn({3, 5, 5}, 77), randn({4, 3, 3, 3}, 78)), doctest::Contains("[N, C, H, W]"),
                       Error);
  CHECK_THROWS_AS(conv2d(x, Tensor::zeros({4, 3, 3, 3}, DType::i64)), Error);
}

TEST_SUITE("cuda") {
  TEST_CASE("conv2d: CPU-vs-CUDA parity") {
    Tensor x = randn({8, 3, 12, 9}, 81), w = randn({5, 3, 3, 4}, 82), b = randn({5}, 83);
    x.set_requires_grad();
    w.set_requires_grad();
    b.set_requires_grad();
    testing::check_parity(conv_fn, {x, w, b}, 1e-4f, 1e-4f);
    testing::check_parity(conv_fn, {x, w}, 1e-4f, 1e-4f);
    // Caser: every horizontal height and the vertical filter.
    Tensor image = randn({3, 1, 5, 10}, 84);
    image.set_requires_grad();
    for (int64_t h = 1; h <= 5; ++h) {
      Tensor wh = randn({16, 1, h, 10}, 90 + h), bh = randn({16}, 95 + h);
      wh.set_requires_grad();
      bh.set_requires_grad();
      testing::check_parity(conv_fn, {image, wh, bh}, 1e-4f, 1e-4f);
    }
    Tensor wv = randn({4, 1, 5, 1}, 99), bv = randn({4}, 100);
    wv.set_requires_grad();
    bv.set_requires_grad();
    testing::check_parity(conv_fn, {image, wv, bv}, 1e-4f, 1e-4f);
  }
}
