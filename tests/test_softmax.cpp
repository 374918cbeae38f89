#include <cmath>
#include <vector>

#include "core/autograd.h"
#include "ops/elementwise.h"
#include "ops/softmax.h"
#include "tests/testing.h"

using namespace curec;
using testing::all_finite;
using testing::randn;

namespace {

// softmax of one row by the textbook formula, in double.
std::vector<float> softmax_row(const std::vector<float>& v) {
  double m = -INFINITY, s = 0.0;
  for (float x : v) m = std::max<double>(m, x);
  for (float x : v) s += std::exp(x - m);
  std::vector<float> out;
  for (float x : v) out.push_back(static_cast<float>(std::exp(x - m) / s));
  return out;
}

// x + mask with the mask broadcast by hand: mask index from x's index by the aligned strides.
Tensor add_broadcast(const Tensor& x, const Tensor& mask) {
  std::vector<float> v = x.to_vector<float>(), m = mask.to_vector<float>();
  const Shape& xs = x.shape();
  const Shape& ms = mask.shape();
  const size_t off = xs.size() - ms.size();
  for (int64_t i = 0; i < x.numel(); ++i) {
    int64_t rest = i, mi = 0, mstride = 1;
    for (size_t d = xs.size(); d-- > 0;) {
      const int64_t idx = rest % xs[d];
      rest /= xs[d];
      if (d >= off) {
        const int64_t md = ms[d - off];
        if (md != 1) mi += idx * mstride;
        mstride *= md;
      }
    }
    v[i] += m[mi];
  }
  return Tensor::from_vector(v, xs);
}

}  // namespace

TEST_CASE("softmax: the textbook formula on each row, any rank; log_softmax is its log") {
  Tensor x = randn({2, 3, 4, 5}, 1, 2.0f);
  std::vector<float> v = x.to_vector<float>(), y = softmax(x).to_vector<float>(), ly = log_softmax(x).to_vector<float>();
  CHECK(softmax(x).shape() == x.shape());
  for (size_t r = 0; r < v.size() / 5; ++r) {
    std::vector<float> want = softmax_row({v.begin() + r * 5, v.begin() + r * 5 + 5});
    for (size_t j = 0; j < 5; ++j) {
      CHECK(y[r * 5 + j] == doctest::Approx(want[j]).epsilon(1e-5));
      CHECK(ly[r * 5 + j] == doctest::Approx(std::log(want[j])).epsilon(1e-5));
    }
  }
}

TEST_CASE("softmax: stable for huge logits (the row max is subtracted)") {
  Tensor x = Tensor::from_vector<float>({1000.0f, 1001.0f, 1002.0f, -1000.0f, -1001.0f, -1002.0f}, {2, 3});
  std::vector<float> y = softmax(x).to_vector<float>();
  std::vector<float> want = softmax_row({0.0f, 1.0f, 2.0f});
  for (size_t j = 0; j < 3; ++j) {
    CHECK(y[j] == doctest::Approx(want[j]));
    CHECK(y[5 - j] == doctest::Approx(want[j]));
  }
  CHECK(all_finite(log_softmax(x)));
  CHECK(log_softmax(x).to_vector<float>()[2] == doctest::Approx(std::log(want[2])));
}

TEST_CASE("softmax: an additive mask broadcasts as NumPy does ([L, L] and [B, 1, 1, L] over [B, H, L, L])") {
  Tensor x = randn({2, 3, 4, 4}, 2);
  std::vector<float> causal(16);
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 4; ++j) causal[i * 4 + j] = j > i ? -INFINITY : 0.0f;
  Tensor pad = randn({2, 1, 1, 4}, 3);
  pad.data<float>()[3] = -INFINITY;  // batch 0's last key is padding
  Tensor column = randn({4, 1}, 4);    // one bias per query row, the same over the columns
  for (const Tensor& mask : {Tensor::from_vector(causal, {4, 4}), pad, column, randn({3, 4, 4}, 5)}) {
    CAPTURE(mask.str());
    testing::check_close(softmax(x, mask), softmax(add_broadcast(x, mask)), 1e-6f, 1e-5f, "softmax");
    // exp of both sides: masked entries are -inf in each, which a difference cannot compare.
    testing::check_close(exp(log_softmax(x, mask)), exp(log_softmax(add_broadcast(x, mask))), 1e-6f, 1e-5f,
                         "log_softmax");
  }
  // Masked entries get probability exactly 0, and no gradient.
  Tensor xg = x.clone().set_requires_grad();
  Tensor y = softmax(xg, Tensor::from_vector(causal, {4, 4}));
  std::vector<float> yv = y.to_vector<float>();
  CHECK(yv[1] == 0.0f);  // row 0, key 1 (above the diagonal)
  CHECK(yv[0] == 1.0f);  // row 0 keeps one key
  y.backward(randn(y.shape(), 6));
  std::vector<float> g = xg.grad().to_vector<float>();
  CHECK(g[1] == 0.0f);
  CHECK(g[0] == 0.0f);  // a row of one live entry is constant 1
}

TEST_CASE("softmax: a fully masked row gives zeros, in the output and the gradient, never NaN") {
  Tensor x = randn({3, 4}, 7);
  Tensor mask = Tensor::from_vector<float>({0, 0, 0, 0, -INFINITY, -INFINITY, -INFINITY, -INFINITY, 0, -1, 0, -1},
                                           {3, 4});
  for (bool log : {false, true}) {
    CAPTURE(log);
    Tensor xg = x.clone().set_requires_grad();
    Tensor y = log ? log_softmax(xg, mask) : softmax(xg, mask);
    std::vector<float> yv = y.to_vector<float>();
    for (int j = 0; j < 4; ++j) CHECK(yv[4 + j] == 0.0f);
    CHECK(all_finite(y));
    y.backward(randn({3, 4}, 8));
    std::vector<float> g = xg.grad().to_vector<float>();
    for (int j = 0; j < 4; ++j) CHECK(g[4 + j] == 0.0f);
    CHECK(all_finite(xg.grad()));
    CHECK(g[0] != 0.0f);  // the live rows still get gradients
  }
}

TEST_CASE("softmax: gradients against the formula dx = y (g - Σ g y) and g - softmax Σ g") {
  Tensor x = randn({2, 6}, 9).set_requires_grad();
  Tensor g = randn({2, 6}, 10);
  Tensor y = softmax(x);
  y.backward(g);
  std::vector<float> yv = y.to_vector<float>(), gv = g.to_vector<float>(), dx = x.grad().to_vector<float>();
  for (int r = 0; r < 2; ++r) {
    float dot = 0, gs = 0;
    for (int j = 0; j < 6; ++j) dot += gv[r * 6 + j] * yv[r * 6 + j], gs += gv[r * 6 + j];
    for (int j = 0; j < 6; ++j) CHECK(dx[r * 6 + j] == doctest::Approx(yv[r * 6 + j] * (gv[r * 6 + j] - dot)));
    x.zero_grad();
    Tensor ly = log_softmax(x);
    ly.backward(g);
    std::vector<float> ldx = x.grad().to_vector<float>();
    for (int j = 0; j < 6; ++j) CHECK(ldx[r * 6 + j] == doctest::Approx(gv[r * 6 + j] - yv[r * 6 + j] * gs).epsilon(1e-4));
    x.zero_grad();
  }
}

TEST_CASE("softmax: errors name the op and what to do") {
  Tensor x = randn({2, 3, 4}, 11);
  CHECK(testing::error_of([&] { softmax(x, randn({3, 5}, 12)); }).find("does not broadcast") != std::string::npos);
  CHECK(testing::error_of([&] { softmax(x, randn({2, 2, 3, 4}, 12)); }).find("does not broadcast") != std::string::npos);
  CHECK(testing::error_of([&] { log_softmax(x, Tensor::zeros({4}, DType::i64)); }).find("log_softmax") !=
        std::string::npos);
  CHECK(testing::error_of([&] { softmax(Tensor::scalar(1.0f)); }).find("no last dimension") != std::string::npos);
  CHECK(testing::error_of([&] { softmax(Tensor::zeros({3}, DType::i64)); }).find("softmax") != std::string::npos);
  CHECK(softmax(Tensor::empty({0, 4})).numel() == 0);
}

TEST_SUITE("cuda") {
  TEST_CASE("softmax on CUDA: rows longer than a block, masks, fully masked rows, both gradients") {
    for (bool log : {false, true}) {
      CAPTURE(log);
      Tensor mask = randn({3, 1000}, 14);
      for (int64_t j = 0; j < 1000; ++j) mask.data<float>()[1000 + j] = -INFINITY;  // row 1 fully masked
      testing::check_parity(
          [log](const std::vector<Tensor>& in) { return log ? log_softmax(in[0], in[1]) : softmax(in[0], in[1]); },
          {randn({2, 3, 1000}, 13, 3.0f).set_requires_grad(), mask}, 1e-5f, 1e-4f);
    }
  }
}
