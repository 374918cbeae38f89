#include <cmath>
#include <vector>

#include "core/autograd.h"
#include "nn/layer_norm.h"
#include "ops/layer_norm.h"
#include "tests/testing.h"

using namespace curec;
using testing::randn;

TEST_CASE("layer_norm: each row to mean 0 and variance 1 (biased), then scaled and shifted") {
  Tensor x = randn({2, 3, 8}, 1, 3.0f);
  std::vector<float> y = layer_norm(x).to_vector<float>();
  for (int r = 0; r < 6; ++r) {
    double m = 0, v = 0;
    for (int j = 0; j < 8; ++j) m += y[r * 8 + j];
    for (int j = 0; j < 8; ++j) v += (y[r * 8 + j] - m / 8) * (y[r * 8 + j] - m / 8);
    CHECK(m / 8 == doctest::Approx(0.0).epsilon(1e-5));
    CHECK(v / 8 == doctest::Approx(1.0).epsilon(1e-4));
  }
  Tensor w = randn({8}, 2), b = randn({8}, 3);
  std::vector<float> ya = layer_norm(x, w, b).to_vector<float>(), wv = w.to_vector<float>(), bv = b.to_vector<float>();
  for (int i = 0; i < 48; ++i) CHECK(ya[i] == doctest::Approx(y[i] * wv[i % 8] + bv[i % 8]).epsilon(1e-5));
}

TEST_CASE("layer_norm: a constant row gives the bias (eps keeps 1/std finite); eps enters the variance") {
  Tensor x = Tensor::full({2, 4}, 3.0f);
  Tensor b = Tensor::from_vector<float>({1, 2, 3, 4});
  CHECK(layer_norm(x, Tensor(), b).to_vector<float>() == std::vector<float>{1, 2, 3, 4, 1, 2, 3, 4});
  Tensor two = Tensor::from_vector<float>({-1, 1}, {1, 2});  // variance 1
  CHECK(layer_norm(two, Tensor(), Tensor(), 3.0f).to_vector<float>()[1] == doctest::Approx(0.5));
}

TEST_CASE("layer_norm: weight and bias gradients are Σ g·x̂ and Σ g over the rows") {
  Tensor x = randn({5, 6}, 4);
  Tensor w = randn({6}, 5).set_requires_grad(), b = randn({6}, 6).set_requires_grad();
  Tensor g = randn({5, 6}, 7);
  layer_norm(x, w, b).backward(g);
  std::vector<float> xhat = layer_norm(x).to_vector<float>(), gv = g.to_vector<float>();
  std::vector<float> dw = w.grad().to_vector<float>(), db = b.grad().to_vector<float>();
  for (int j = 0; j < 6; ++j) {
    float sw = 0, sb = 0;
    for (int r = 0; r < 5; ++r) sw += gv[r * 6 + j] * xhat[r * 6 + j], sb += gv[r * 6 + j];
    CHECK(dw[j] == doctest::Approx(sw).epsilon(1e-4));
    CHECK(db[j] == doctest::Approx(sb).epsilon(1e-5));
  }
}

TEST_CASE("layer_norm: bad input is a clear error") {
  Tensor x = randn({3, 4}, 8);
  CHECK(testing::error_of([&] { layer_norm(x, randn({3}, 9)); }).find("weight f32[3] on cpu must be [4]") !=
        std::string::npos);
  CHECK(testing::error_of([&] { layer_norm(x, Tensor(), randn({4, 1}, 9)); }).find("bias") != std::string::npos);
  CHECK(testing::error_of([&] { layer_norm(x, Tensor(), Tensor(), -1.0f); }).find("eps") != std::string::npos);
  CHECK(testing::error_of([&] { layer_norm(Tensor::scalar(1.0f)); }).find("non-empty last dimension") !=
        std::string::npos);
}

TEST_CASE("nn::LayerNorm: registered weight (ones) and bias (zeros), options, shape checks") {
  nn::LayerNorm norm(6);
  auto params = norm.named_parameters();
  REQUIRE(params.size() == 2);
  CHECK(params[0].first == "weight");
  CHECK(params[1].first == "bias");
  CHECK(norm.weight.to_vector<float>() == std::vector<float>(6, 1.0f));
  CHECK(norm.bias.to_vector<float>() == std::vector<float>(6, 0.0f));
  Tensor x = randn({4, 6}, 10);
  testing::check_close(norm(x), layer_norm(x), 0.0f, 0.0f, "LayerNorm at init");
  nn::LayerNorm plain(6, {.eps = 1e-3f, .affine = false});
  CHECK(plain.named_parameters().empty());
  CHECK(plain.eps() == 1e-3f);
  testing::check_close(plain(x), layer_norm(x, Tensor(), Tensor(), 1e-3f), 0.0f, 0.0f, "LayerNorm without affine");
  CHECK(testing::error_of([&] { norm(randn({4, 5}, 11)); }).find("must end in a dimension of 6") != std::string::npos);
  CHECK(testing::error_of([] { nn::LayerNorm bad(0); }).find("positive") != std::string::npos);
  // Its parameters train: a step moves them.
  norm(x).backward(randn({4, 6}, 12));
  CHECK(norm.weight.grad().defined());
  CHECK(norm.bias.grad().defined());
}

TEST_SUITE("cuda") {
  TEST_CASE("layer_norm on CUDA: rows longer than a block, all three gradients, the module moved") {
    testing::check_parity([](const std::vector<Tensor>& in) { return layer_norm(in[0], in[1], in[2]); },
                          {randn({7, 300}, 13, 2.0f).set_requires_grad(), randn({300}, 14).set_requires_grad(),
                           randn({300}, 15).set_requires_grad()},
                          1e-4f, 1e-4f);
    nn::LayerNorm cpu(5), gpu(5);
    gpu.to(Device::cuda(0));
    Tensor x = randn({3, 5}, 16);
    testing::check_close(gpu(x.to(Device::cuda(0))).cpu(), cpu(x), 1e-5f, 1e-5f, "LayerNorm on cuda:0");
  }
}
