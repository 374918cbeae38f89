#include <cmath>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "core/autograd.h"
#include "nn/conv2d.h"
#include "nn/dropout.h"
#include "nn/embedding.h"
#include "nn/linear.h"
#include "nn/max_pool.h"
#include "nn/mlp.h"
#include "nn/sgd.h"
#include "ops/reduce.h"
#include "tests/testing.h"

using namespace curec;

namespace {

// Gradient check of a layer with respect to its input (when float) and every parameter.
void check_layer_gradients(nn::Layer& layer, const Tensor& x) {
  std::vector<Tensor> inputs = {x};
  for (const Tensor& p : layer.parameters()) inputs.push_back(p);
  // Parameters are the layer's own tensors: the checker perturbs them in place.
  testing::check_gradients([&](const std::vector<Tensor>& in) { return layer.forward(in[0]); }, inputs);
}

std::vector<std::string> names_of(const nn::Module& m) {
  std::vector<std::string> out;
  for (auto& [name, t] : m.named_parameters()) out.push_back(name);
  return out;
}

}  // namespace

TEST_CASE("Linear: shapes, y = x W^T + b, default init range, gradients") {
  Generator g(1);
  nn::Linear lin(3, 5, {}, g);
  CHECK(names_of(lin) == std::vector<std::string>{"weight", "bias"});
  CHECK(lin.weight.shape() == Shape{5, 3});
  CHECK(lin.num_parameters() == 20);
  float bound = 1.0f / std::sqrt(3.0f);
  for (float w : lin.weight.to_vector<float>()) CHECK(std::fabs(w) <= bound);
  for (float b : lin.bias.to_vector<float>()) CHECK(std::fabs(b) <= bound);

  Tensor x = testing::randn({4, 3}, 2);
  Tensor y = lin(x);
  REQUIRE(y.shape() == Shape{4, 5});
  std::vector<float> xv = x.to_vector<float>(), wv = lin.weight.to_vector<float>(), bv = lin.bias.to_vector<float>(),
                     yv = y.to_vector<float>();
  for (int i = 0; i < 4; ++i)
    for (int o = 0; o < 5; ++o) {
      float e = bv[o];
      for (int k = 0; k < 3; ++k) e += xv[i * 3 + k] * wv[o * 3 + k];
      CHECK(yv[i * 5 + o] == doctest::Approx(e).epsilon(1e-5));
    }
  x.set_requires_grad();
  check_layer_gradients(lin, x);

  nn::Linear no_bias(3, 2, {.bias = false});
  CHECK(no_bias.parameters().size() == 1);
  CHECK(no_bias(x).shape() == Shape{4, 2});

  // A seed reproduces the initialisation.
  Generator g1(7), g2(7);
  CHECK(nn::Linear(4, 4, {}, g1).weight.to_vector<float>() == nn::Linear(4, 4, {}, g2).weight.to_vector<float>());
}

TEST_CASE("layers built without a generator draw from the thread's default one, which manual_seed seeds") {
  manual_seed(11);
  nn::Linear a(4, 3);
  nn::Embedding ea(5, 2);
  manual_seed(11);
  nn::Linear b(4, 3);
  nn::Embedding eb(5, 2);
  CHECK(a.weight.to_vector<float>() == b.weight.to_vector<float>());
  CHECK(a.bias.to_vector<float>() == b.bias.to_vector<float>());
  CHECK(ea.weight.to_vector<float>() == eb.weight.to_vector<float>());
  // The default generator is Generator(seed) by another name: the same draws as an explicit one.
  Generator g(11);
  CHECK(nn::Linear(4, 3, {}, g).weight.to_vector<float>() == a.weight.to_vector<float>());
  nn::Linear c(4, 3);  // the stream moved on: a second layer differs from the first
  CHECK(c.weight.to_vector<float>() != b.weight.to_vector<float>());

  // Threads (ranks run as threads) each have their own default generator, starting at the last
  // seed: each builds the same layer, and none disturbs another's stream.
  manual_seed(5);
  std::vector<float> here = nn::Linear(6, 6).weight.to_vector<float>();
  std::vector<std::vector<float>> there(3);
  std::vector<std::thread> threads;
  for (auto& w : there) threads.emplace_back([&w] { w = nn::Linear(6, 6).weight.to_vector<float>(); });
  for (auto& t : threads) t.join();
  for (const auto& w : there) CHECK(w == here);
  manual_seed(0);
}

TEST_CASE("mlp builds Linear/activation/Dropout stacks with PyTorch-style names") {
  auto net = nn::mlp({6, 8, 4, 1});
  CHECK(net->size() == 5);  // L R L R L
  CHECK(names_of(*net) == std::vector<std::string>{"0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"});
  CHECK(net->num_parameters() == 6 * 8 + 8 + 8 * 4 + 4 + 4 + 1);
  CHECK(net->forward(testing::randn({2, 6}, 3)).shape() == Shape{2, 1});

  auto tower = nn::mlp({6, 8, 4}, {.activation = nn::Activation::sigmoid, .dropout = 0.5f, .activation_on_last = true});
  CHECK(tower->size() == 6);  // L S D L S D
  CHECK(dynamic_cast<nn::Dropout*>(&(*tower)[5]) != nullptr);
  CHECK(dynamic_cast<nn::Sigmoid*>(&(*tower)[4]) != nullptr);
  tower->eval();
  Tensor x = testing::randn({3, 6}, 4);
  CHECK(tower->forward(x).to_vector<float>() == tower->forward(x).to_vector<float>());  // no dropout in eval
  CHECK_THROWS_AS(nn::mlp({4}), Error);

  auto smooth = nn::mlp({3, 4, 2}, {.activation = nn::Activation::tanh});
  Tensor xs = testing::randn({5, 3}, 5);
  xs.set_requires_grad();
  check_layer_gradients(*smooth, xs);
}

TEST_CASE("Dropout: identity in eval, masks and rescales in training") {
  nn::Dropout drop(0.5f);
  Tensor x = testing::rand_uniform({1000}, 6, 1.0f, 2.0f);
  drop.eval();
  CHECK(drop(x).to_vector<float>() == x.to_vector<float>());
  drop.train();
  std::vector<float> y = drop(x).to_vector<float>(), xv = x.to_vector<float>();
  int zeros = 0;
  for (size_t i = 0; i < y.size(); ++i) {
    if (y[i] == 0.0f) ++zeros;
    else CHECK(y[i] == doctest::Approx(2.0f * xv[i]));
  }
  CHECK(zeros > 400);
  CHECK(zeros < 600);
  CHECK_THROWS_AS(nn::Dropout(1.0f), Error);
}

TEST_CASE("Embedding: lookup shape and values, dense and row-sparse gradients") {
  Generator g(8);
  nn::Embedding emb(10, 4, {}, g);
  CHECK(emb.rows() == 10);
  CHECK(emb.dim() == 4);
  Tensor ids = Tensor::from_vector<int64_t>({3, 0, 3, 9, 1, 2}, {2, 3});
  Tensor y = emb(ids);
  REQUIRE(y.shape() == Shape{2, 3, 4});
  CHECK(y.rows(0, 1).view({3, 4}).rows(0, 1).to_vector<float>() == emb.weight.rows(3, 1).to_vector<float>());
  testing::check_gradients([&](const std::vector<Tensor>&) { return emb(ids); }, {emb.weight});

  // Sparse gradients through the layer give the same SGD step as dense ones.
  Generator g1(9), g2(9);
  nn::Embedding dense(10, 4, {}, g1), sparse(10, 4, {.sparse_grad = true}, g2);
  nn::SGD opt_d(dense.parameters(), {.lr = 0.1f}), opt_s(sparse.parameters(), {.lr = 0.1f});
  sum(dense(ids)).backward();
  sum(sparse(ids)).backward();
  CHECK(sparse.weight.has_sparse_grad());
  CHECK(!dense.weight.has_sparse_grad());
  opt_d.step();
  opt_s.step();
  testing::check_close(sparse.weight, dense.weight, 1e-6f, 1e-6f, "weights after one step");
}

TEST_CASE("Conv2d and MaxPool1d: shapes and gradients") {
  Generator g(10);
  nn::Conv2d conv(1, 2, 3, 4, {}, g);
  CHECK(conv.weight.shape() == Shape{2, 1, 3, 4});
  float bound = 1.0f / std::sqrt(12.0f);
  for (float w : conv.weight.to_vector<float>()) CHECK(std::fabs(w) <= bound);
  Tensor x = testing::randn({2, 1, 5, 4}, 11);
  CHECK(conv(x).shape() == Shape{2, 2, 3, 1});
  x.set_requires_grad();
  check_layer_gradients(conv, x);
  nn::Conv2d no_bias(1, 2, 3, 4, {.bias = false}, g);
  CHECK(names_of(no_bias) == std::vector<std::string>{"weight"});
  CHECK(no_bias(x).shape() == Shape{2, 2, 3, 1});

  nn::MaxPool1d pool(2);
  Tensor s = Tensor::from_vector<float>({1, 5, 2, 2, -1, -3}, {1, 1, 6});
  Tensor p = pool(s);
  CHECK(p.shape() == Shape{1, 1, 3});
  CHECK(p.to_vector<float>() == std::vector<float>{5, 2, -1});
  Tensor r = testing::randn({2, 3, 6}, 12);
  r.set_requires_grad();
  check_layer_gradients(pool, r);
}

TEST_SUITE("cuda") {
  // The same layer (same seed) on CPU and cuda:0: outputs and parameter/input gradients agree.
  void layer_parity(const std::function<std::shared_ptr<nn::Layer>()>& make, const Tensor& x, bool input_grad) {
    auto cpu = make(), gpu = make();
    gpu->to(Device::cuda(0));
    Tensor xc = x.clone(), xg = x.to(Device::cuda(0));
    if (input_grad) {
      xc.set_requires_grad();
      xg.set_requires_grad();
    }
    Tensor yc = cpu->forward(xc), yg = gpu->forward(xg);
    testing::check_close(yg, yc, 1e-4f, 1e-4f, "output");
    Tensor w = testing::randn(yc.shape(), 99);
    yc.backward(w);
    yg.backward(w.to(Device::cuda(0)));
    auto pc = cpu->named_parameters(), pg = gpu->named_parameters();
    for (size_t i = 0; i < pc.size(); ++i) {
      if (pc[i].second.has_sparse_grad()) continue;
      testing::check_close(pg[i].second.grad(), pc[i].second.grad(), 1e-4f, 1e-4f, pc[i].first + " gradient");
    }
    if (input_grad) testing::check_close(xg.grad(), xc.grad(), 1e-4f, 1e-4f, "input gradient");
  }

  TEST_CASE("layers: CPU-vs-CUDA parity of forward and backward") {
    layer_parity([] { Generator g(1); return std::make_shared<nn::Linear>(7, 5, nn::LinearOptions{}, g); }, testing::randn({9, 7}, 2),
                 true);
    layer_parity([] { Generator g(2); return nn::mlp({7, 16, 8, 1}, {}, g); },
                 testing::randn({9, 7}, 3), true);
    layer_parity([] { Generator g(3); return std::make_shared<nn::Embedding>(50, 6, EmbeddingOptions{}, g); },
                 testing::randint({4, 5}, 50, 4), false);
    layer_parity([] { Generator g(4); return std::make_shared<nn::Conv2d>(1, 3, 2, 6, nn::Conv2dOptions{}, g); },
                 testing::randn({2, 1, 5, 6}, 5), true);
    layer_parity([] { return std::make_shared<nn::MaxPool1d>(3); }, testing::randn({2, 4, 9}, 6), true);
  }

  TEST_CASE("layers: dropout draws the same mask on CPU and CUDA") {
    // One generator per backend, same seed: both draw the same Philox stream.
    Generator gc(5), gg(5);
    nn::Dropout on_cpu(0.3f, gc), on_gpu(0.3f, gg);
    Tensor x = testing::randn({8, 16}, 7);
    Tensor yc = on_cpu(x), yg = on_gpu(x.to(Device::cuda(0)));
    testing::check_close(yg, yc, 1e-6f, 1e-6f, "dropout output");
    int zeros = 0;
    for (float v : yc.to_vector<float>()) zeros += v == 0.0f;
    CHECK(zeros > 0);
  }
}
