// masked_fill (ops/masked_fill.h): u8 and f32 masks, broadcast masks, the gradient, errors.
#include <cmath>
#include <limits>

#include "ops/masked_fill.h"
#include "tests/testing.h"

using namespace curec;

TEST_CASE("masked_fill: value where the mask is nonzero, x elsewhere") {
  Tensor x = Tensor::from_vector<float>({1, 2, 3, 4}, {2, 2});
  Tensor m8 = Tensor::from_vector<uint8_t>({0, 1, 1, 0}, {2, 2});
  CHECK(masked_fill(x, m8, -9.0f).to_vector<float>() == std::vector<float>{1, -9, -9, 4});
  Tensor mf = Tensor::from_vector<float>({0.0f, 0.5f, 0.0f, -1.0f}, {2, 2});
  CHECK(masked_fill(x, mf, 0.0f).to_vector<float>() == std::vector<float>{1, 0, 3, 0});
  const float inf = std::numeric_limits<float>::infinity();
  CHECK(masked_fill(x, m8, -inf).to_vector<float>()[1] == -inf);
}

TEST_CASE("masked_fill: a mask broadcast over x (a key-padding mask over [B, L, L] scores)") {
  Tensor scores = testing::randn({2, 3, 3}, 1);
  Tensor pad = Tensor::from_vector<uint8_t>({0, 0, 1, 0, 1, 1}, {2, 1, 3});  // keys padded per batch entry
  Tensor out = masked_fill(scores, pad, -1e9f);
  std::vector<float> s = scores.to_vector<float>(), o = out.to_vector<float>();
  for (int64_t b = 0; b < 2; ++b)
    for (int64_t q = 0; q < 3; ++q)
      for (int64_t k = 0; k < 3; ++k) {
        const int64_t i = (b * 3 + q) * 3 + k;
        CHECK(o[i] == (pad.to_vector<uint8_t>()[b * 3 + k] ? -1e9f : s[i]));
      }
  // A causal mask [L, L] over every batch entry.
  Tensor causal = Tensor::from_vector<uint8_t>({0, 1, 1, 0, 0, 1, 0, 0, 0}, {3, 3});
  CHECK(masked_fill(scores, causal, 0.0f).to_vector<float>()[1] == 0.0f);
  CHECK(masked_fill(scores, causal, 0.0f).to_vector<float>()[3] == s[3]);
}

TEST_CASE("masked_fill: the gradient flows where the mask is zero") {
  Tensor x = testing::randn({2, 3}, 2).set_requires_grad();
  Tensor m = Tensor::from_vector<uint8_t>({1, 0, 1}, {3});
  masked_fill(x, m, 5.0f).backward(Tensor::full({2, 3}, 2.0f));
  CHECK(x.grad().to_vector<float>() == std::vector<float>{0, 2, 0, 0, 2, 0});
  Tensor y = testing::randn({2, 1, 3, 4}, 3).set_requires_grad();
  Tensor mask = Tensor::from_vector<float>({1, 0, 0, 1, 0, 1, 1, 0}, {2, 1, 1, 4});
  testing::check_gradients([mask](const std::vector<Tensor>& in) { return masked_fill(in[0], mask, -3.0f); }, {y});
}

TEST_CASE("masked_fill: errors") {
  Tensor x = Tensor::zeros({2, 3});
  CHECK_THROWS_WITH_AS(masked_fill(x, Tensor::zeros({2}, DType::u8), 0.0f), doctest::Contains("cannot broadcast"),
                       Error);
  CHECK_THROWS_WITH_AS(masked_fill(x, Tensor::zeros({4, 2, 3}, DType::u8), 0.0f),
                       doctest::Contains("does not broadcast to x's shape f32[2, 3]"), Error);
  CHECK_THROWS_WITH_AS(masked_fill(x, Tensor::zeros({2, 3}, DType::i64), 0.0f), doctest::Contains("u8 or f32"),
                       Error);
}

TEST_SUITE("cuda") {
  TEST_CASE("masked_fill: CPU-vs-CUDA parity, u8 and f32 masks, broadcast") {
    Tensor x = testing::randn({3, 4, 5, 6}, 4).set_requires_grad();
    Tensor m8 = testing::randint({3, 1, 5, 1}, 2, 5, DType::i64);
    std::vector<uint8_t> bytes;
    for (int64_t v : m8.to_vector<int64_t>()) bytes.push_back(static_cast<uint8_t>(v));
    Tensor mask8 = Tensor::from_vector(bytes, {3, 1, 5, 1});
    testing::check_parity([](const std::vector<Tensor>& in) { return masked_fill(in[0], in[1], -7.0f); }, {x, mask8},
                          0.0f, 0.0f);
    std::vector<float> halves;  // zeros and nonzeros
    for (int64_t v : testing::randint({6}, 2, 6).to_vector<int64_t>()) halves.push_back(0.5f * static_cast<float>(v));
    Tensor maskf = Tensor::from_vector(halves, {6});
    testing::check_parity([](const std::vector<Tensor>& in) { return masked_fill(in[0], in[1], 1.0f); }, {x, maskf},
                          0.0f, 0.0f);
  }
}
