#include <algorithm>
#include <cmath>
#include <string>

#include "core/allocator.h"
#include "core/autograd.h"
#include "nn/adam.h"
#include "nn/embedding.h"
#include "nn/sgd.h"
#include "ops/elementwise.h"
#include "ops/reduce.h"
#include "tests/testing.h"

using namespace curec;

namespace {

Tensor param(const std::vector<float>& v, const Shape& s, Device d = Device::cpu()) {
  Tensor t = Tensor::from_vector<float>(v, s, d);
  t.set_requires_grad();
  return t;
}

Tensor vec(const std::vector<float>& v) { return Tensor::from_vector<float>(v, {static_cast<int64_t>(v.size())}); }

void check_values(const Tensor& t, const std::vector<double>& expected, double tol, const char* what) {
  std::vector<float> v = t.cpu().to_vector<float>();
  REQUIRE(v.size() == expected.size());
  std::string name = what;
  for (size_t i = 0; i < v.size(); ++i) {
    CAPTURE(name);
    CAPTURE(i);
    CHECK(std::fabs(v[i] - expected[i]) <= tol * std::max(1.0, std::fabs(expected[i])));
  }
}

// The two gradients both hand computations use.
const std::vector<float> kG1 = {0.5f, 1.0f}, kG2 = {-1.0f, 0.25f};

}  // namespace

TEST_CASE("SGD with momentum and weight decay matches two hand-computed steps") {
  Tensor w = param({1.0f, -2.0f}, {2});
  nn::SGD opt({w}, {.lr = 0.1f, .momentum = 0.9f, .weight_decay = 0.1f});
  // Step 1: g = 0.5 + 0.1*1 = 0.6, v = 0.6, w = 1 - 0.1*0.6 = 0.94; and for -2: g = 0.8, w = -2.08.
  w.set_grad(vec(kG1));
  opt.step();
  check_values(w, {0.94, -2.08}, 1e-6, "step 1");
  // Step 2: g = -1 + 0.094 = -0.906, v = 0.54 - 0.906 = -0.366, w = 0.94 + 0.0366 = 0.9766;
  //         g = 0.25 - 0.208 = 0.042, v = 0.72 + 0.042 = 0.762, w = -2.08 - 0.0762 = -2.1562.
  w.set_grad(vec(kG2));
  opt.step();
  check_values(w, {0.9766, -2.1562}, 1e-6, "step 2");
  CHECK(opt.step_count(0) == 2);
  check_values(opt.state_dict().at("0.velocity"), {-0.366, 0.762}, 1e-5, "velocity");
}

TEST_CASE("plain SGD keeps no state and skips parameters without gradients") {
  Tensor a = param({1.0f, 2.0f}, {2}), b = param({3.0f}, {1});
  nn::SGD opt({a, b}, {.lr = 0.5f});
  a.set_grad(vec({2.0f, -2.0f}));
  opt.step();
  check_values(a, {0.0, 3.0}, 1e-7, "a");
  check_values(b, {3.0}, 0, "b");
  CHECK(opt.step_count(1) == 0);
  CHECK(opt.state_dict().count("0.velocity") == 0);
  opt.zero_grad();
  CHECK(!a.grad().defined());
}

TEST_CASE("Adam with weight decay matches two hand-computed steps (bias correction)") {
  Tensor w = param({1.0f, -2.0f}, {2});
  nn::Adam opt({w}, {.lr = 0.1f, .weight_decay = 0.1f});
  // Step 1: g = 0.6, m = 0.06, v = 0.00036; m/(1-0.9) = 0.6, sqrt(v/(1-0.999)) = 0.6, so each
  // weight moves by lr * sign(g) (up to eps): 1 -> 0.9, -2 -> -2.1.
  w.set_grad(vec(kG1));
  opt.step();
  check_values(w, {0.9, -2.1}, 1e-6, "step 1");
  // Step 2: g = -1 + 0.09 = -0.91, m = 0.054 - 0.091 = -0.037, v = 0.00035964 + 0.00082810 = 0.00118774,
  //   w = 0.9 - 0.1/0.19 * -0.037 / (sqrt(0.00118774)/sqrt(0.001999)) = 0.92526352;
  //   g = 0.25 - 0.21 = 0.04, m = 0.072 + 0.004 = 0.076, v = 0.00063936 + 0.0000016 = 0.00064096,
  //   w = -2.1 - 0.1/0.19 * 0.076 / (sqrt(0.00064096)/sqrt(0.001999)) = -2.17064004.
  w.set_grad(vec(kG2));
  opt.step();
  check_values(w, {0.92526352, -2.17064004}, 2e-6, "step 2");
  nn::StateDict st = opt.state_dict();
  check_values(st.at("0.exp_avg"), {-0.037, 0.076}, 1e-5, "exp_avg");
  check_values(st.at("0.exp_avg_sq"), {0.00118774, 0.00064096}, 1e-5, "exp_avg_sq");
  CHECK(st.at("0.step").to_vector<int64_t>()[0] == 2);
}

TEST_CASE("Adam minimises a quadratic") {
  Tensor target = vec({3.0f, -1.0f, 0.5f, 2.0f});
  Tensor w = param({0.0f, 0.0f, 0.0f, 0.0f}, {4});
  nn::Adam opt({w}, {.lr = 0.05f});
  float first = 0, last = 0;
  for (int it = 0; it < 600; ++it) {
    opt.zero_grad();
    Tensor loss = sum(square(w - target));
    if (it == 0) first = loss.item();
    last = loss.item();
    loss.backward();
    opt.step();
  }
  CHECK(first > 10.0f);
  CHECK(last < 1e-4f);
  check_values(w, {3.0, -1.0, 0.5, 2.0}, 1e-3, "minimiser");
}

TEST_CASE("lazy sparse Adam updates only touched rows and equals dense Adam there at step 1") {
  const int64_t rows = 6, width = 3;
  Tensor init = testing::randn({rows, width}, 11);
  Tensor idx = Tensor::from_vector<int64_t>({4, 1, 4}, {3});
  Tensor grad_rows = testing::randn({3, width}, 12);

  Tensor sparse_w = init.clone().set_requires_grad();
  nn::Adam lazy({sparse_w}, {.lr = 0.01f, .weight_decay = 0.1f});
  sparse_w.set_sparse_grad(idx, grad_rows);
  lazy.step();

  // Dense gradient with duplicates summed; dense Adam also decays (and moves) untouched rows.
  Tensor dense_g = Tensor::zeros({rows, width});
  for (int64_t i = 0; i < 3; ++i)
    for (int64_t c = 0; c < width; ++c)
      dense_g.data<float>()[idx.data<int64_t>()[i] * width + c] += grad_rows.data<float>()[i * width + c];
  Tensor dense_w = init.clone().set_requires_grad();
  nn::Adam dense({dense_w}, {.lr = 0.01f, .weight_decay = 0.1f});
  dense_w.set_grad(dense_g);
  dense.step();

  for (int64_t r = 0; r < rows; ++r) {
    CAPTURE(r);
    std::vector<float> got = sparse_w.rows(r, 1).to_vector<float>();
    if (r == 1 || r == 4) {
      CHECK(got == dense_w.rows(r, 1).to_vector<float>());
      CHECK(got != init.rows(r, 1).to_vector<float>());
    } else {
      CHECK(got == init.rows(r, 1).to_vector<float>());
      CHECK(lazy.state_dict().at("0.exp_avg").rows(r, 1).to_vector<float>() == std::vector<float>(width, 0.0f));
    }
  }

  // Step 2 touches only row 1: row 4 and its moments stay exactly as they were.
  std::vector<float> row4 = sparse_w.rows(4, 1).to_vector<float>();
  std::vector<float> m4 = lazy.state_dict().at("0.exp_avg").rows(4, 1).to_vector<float>();
  sparse_w.zero_grad();
  sparse_w.set_sparse_grad(Tensor::from_vector<int64_t>({1}, {1}), testing::randn({1, width}, 13));
  lazy.step();
  CHECK(sparse_w.rows(4, 1).to_vector<float>() == row4);
  CHECK(lazy.state_dict().at("0.exp_avg").rows(4, 1).to_vector<float>() == m4);
  CHECK(lazy.step_count(0) == 2);
}

TEST_CASE("lazy sparse SGD sums duplicate rows; momentum only on touched rows") {
  Tensor w = param({1, 1, 2, 2, 3, 3}, {3, 2});
  nn::SGD opt({w}, {.lr = 0.5f, .momentum = 0.5f});
  w.set_sparse_grad(Tensor::from_vector<int64_t>({2, 0, 2}, {3}),
                    Tensor::from_vector<float>({1, 2, 4, 4, 1, 0}, {3, 2}));
  opt.step();
  // Row 0: g = (4, 4) -> 1 - 2 = -1; row 2: g = (1+1, 2+0) -> (3 - 1, 3 - 1); row 1 untouched.
  check_values(w, {-1, -1, 2, 2, 2, 2}, 1e-7, "step 1");
  w.zero_grad();
  w.set_sparse_grad(Tensor::from_vector<int64_t>({0}, {1}), Tensor::from_vector<float>({0, 0}, {1, 2}));
  opt.step();
  // Row 0: v = 0.5*4 + 0 = 2 -> -1 - 1 = -2; row 2's velocity is not applied (lazy).
  check_values(w, {-2, -2, 2, 2, 2, 2}, 1e-7, "step 2");
}

TEST_CASE("optimizers reject bad input with clear errors") {
  Tensor w = param({0, 0, 0, 0}, {2, 2});
  nn::Adam opt({w}, {});
  w.set_sparse_grad(Tensor::from_vector<int64_t>({2}, {1}), Tensor::from_vector<float>({1, 1}, {1, 2}));
  CHECK_THROWS_WITH_AS(opt.step(), doctest::Contains("outside a table of 2 rows"), Error);
  w.zero_grad();
  w.set_sparse_grad(Tensor::from_vector<int64_t>({0}, {1}), Tensor::from_vector<float>({1, 1, 1}, {1, 3}));
  CHECK_THROWS_WITH_AS(opt.step(), doctest::Contains("row-sparse gradient"), Error);
  w.zero_grad();
  w.set_grad(Tensor::zeros({4}));
  CHECK_THROWS_WITH_AS(opt.step(), doctest::Contains("does not match parameter"), Error);
  CHECK_THROWS_WITH_AS(nn::SGD({w, w}, {}), doctest::Contains("same tensor"), Error);
  CHECK_THROWS_AS(nn::Adam({w}, {.beta1 = 1.0f}), Error);
  Tensor frozen = Tensor::zeros({2});
  CHECK_THROWS_WITH_AS(nn::SGD({frozen}, {}), doctest::Contains("requires grad"), Error);
  CHECK_THROWS_AS(opt.set_lr(-1.0f), Error);
}

TEST_CASE("optimizer state_dict restores training exactly") {
  Tensor a = param({1.0f, -1.0f, 0.5f}, {3}), b = param({2.0f}, {1});
  nn::Adam opt({a, b}, {.lr = 0.05f, .weight_decay = 0.01f});
  for (int i = 0; i < 3; ++i) {
    a.set_grad(testing::randn({3}, 20 + i));
    b.set_grad(testing::randn({1}, 30 + i));
    opt.step();
  }
  Tensor a2 = a.clone().set_requires_grad(), b2 = b.clone().set_requires_grad();
  nn::Adam resumed({a2, b2}, {.lr = 1.0f, .weight_decay = 0.01f});  // lr comes from the state
  resumed.load_state_dict(opt.state_dict());
  CHECK(resumed.lr() == 0.05f);
  CHECK(resumed.step_count(0) == 3);
  Tensor g = testing::randn({3}, 40);
  a.set_grad(g);
  a2.set_grad(g.clone());
  b.zero_grad();
  b2.zero_grad();
  opt.step();
  resumed.step();
  CHECK(a.to_vector<float>() == a2.to_vector<float>());

  nn::StateDict bad = opt.state_dict();
  bad["0.exp_avg"] = Tensor::zeros({4});
  CHECK_THROWS_WITH_AS(resumed.load_state_dict(bad), doctest::Contains("0.exp_avg"), Error);
  bad = opt.state_dict();
  bad["7.exp_avg"] = Tensor::zeros({1});
  CHECK_THROWS_WITH_AS(resumed.load_state_dict(bad), doctest::Contains("unexpected key"), Error);
  // An index past size_t (a corrupted checkpoint) is an unexpected key too, not std::out_of_range.
  bad = opt.state_dict();
  bad["99999999999999999999999.exp_avg"] = Tensor::zeros({1});
  CHECK_THROWS_WITH_AS(resumed.load_state_dict(bad),
                       doctest::Contains("unexpected key \"99999999999999999999999.exp_avg\""), Error);
}

TEST_SUITE("cuda") {
  // Runs `steps` updates of the same gradients on CPU and on cuda:0 copies; weights and state must agree.
  template <class Opt, class Options>
  void optimizer_parity(const Options& options, bool sparse) {
    const int64_t rows = 300, width = 37;
    Tensor w_cpu = testing::randn({rows, width}, 50).set_requires_grad();
    Tensor w_gpu = w_cpu.to(Device::cuda(0)).detach().set_requires_grad();
    Opt cpu_opt({w_cpu}, options), gpu_opt({w_gpu}, options);
    for (int s = 0; s < 3; ++s) {
      w_cpu.zero_grad();
      w_gpu.zero_grad();
      if (sparse) {
        // Many duplicates (ids drawn from 40 rows) to exercise the per-run sums.
        Tensor idx = testing::randint({500}, 40, 60 + s);
        Tensor g = testing::randn({500, width}, 70 + s);
        w_cpu.set_sparse_grad(idx, g);
        w_gpu.set_sparse_grad(idx.to(Device::cuda(0)), g.to(Device::cuda(0)));
      } else {
        Tensor g = testing::randn({rows, width}, 70 + s);
        w_cpu.set_grad(g);
        w_gpu.set_grad(g.to(Device::cuda(0)));
      }
      cpu_opt.step();
      gpu_opt.step();
    }
    testing::check_close(w_gpu, w_cpu, 1e-5f, 1e-5f, "weights");
    nn::StateDict a = cpu_opt.state_dict(), b = gpu_opt.state_dict();
    REQUIRE(a.size() == b.size());
    for (auto& [k, t] : a)
      if (t.dtype() == DType::f32) testing::check_close(b.at(k), t, 1e-5f, 1e-4f, k);
  }

  TEST_CASE("fused SGD on CUDA equals the CPU update (dense and sparse)") {
    optimizer_parity<nn::SGD>(nn::SgdOptions{.lr = 0.1f, .momentum = 0.9f, .weight_decay = 0.01f}, false);
    optimizer_parity<nn::SGD>(nn::SgdOptions{.lr = 0.1f, .momentum = 0.9f, .weight_decay = 0.01f}, true);
    optimizer_parity<nn::SGD>(nn::SgdOptions{.lr = 0.1f}, true);
  }

  TEST_CASE("fused Adam on CUDA equals the CPU update (dense and sparse)") {
    optimizer_parity<nn::Adam>(nn::AdamOptions{.lr = 0.01f, .weight_decay = 0.01f}, false);
    optimizer_parity<nn::Adam>(nn::AdamOptions{.lr = 0.01f, .weight_decay = 0.01f}, true);
  }

  TEST_CASE("on CUDA the state is made with the optimizer, yet counts as none until a parameter's first update") {
    const Device g = Device::cuda(0);
    Tensor a = Tensor::zeros({3, 2}, DType::f32, g).set_requires_grad();
    Tensor b = Tensor::zeros({2}, DType::f32, g).set_requires_grad();
    const size_t before = memory_stats(g).in_use_bytes;
    nn::Adam opt({a, b}, {.lr = 0.1f});
    CHECK(memory_stats(g).in_use_bytes >= before + 2 * (6 + 2) * sizeof(float));
    CHECK(opt.state_dict().size() == 1);  // "lr" only, as on the CPU
    a.set_grad(Tensor::ones({3, 2}, g));
    opt.step();
    nn::StateDict d = opt.state_dict();
    CHECK(d.count("0.exp_avg") == 1);
    CHECK(d.count("1.step") == 0);
    nn::Adam resumed({a, b}, {.lr = 0.1f});
    resumed.load_state_dict(d);
    CHECK(resumed.state_dict().size() == d.size());
    // A model moved after its optimizer was built, before any update: the state is made anew where it is.
    nn::Embedding e(4, 2);
    e.to(g);
    nn::SGD sgd(e.parameters(), {.lr = 0.1f, .momentum = 0.9f});
    e.to(Device::cpu());
    e.weight.set_grad(Tensor::ones({4, 2}));
    sgd.step();
    CHECK(sgd.state_dict().at("0.velocity").to_vector<float>() == std::vector<float>(8, 1.0f));
  }

  TEST_CASE("sparse update with an out-of-range id raises the device error") {
    Tensor w = Tensor::zeros({4, 2}, DType::f32, Device::cuda(0)).set_requires_grad();
    nn::Adam opt({w}, {});
    w.set_sparse_grad(Tensor::from_vector<int64_t>({1, 9}, {2}, Device::cuda(0)),
                      Tensor::ones({2, 2}, Device::cuda(0)));
    opt.step();
    CHECK_THROWS_AS(synchronize(Device::cuda(0)), Error);
  }
}
