#include "tests/testing.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "core/autograd.h"
#include "core/error.h"
#include "core/random.h"

namespace curec::testing {

Tensor randn(const Shape& shape, uint64_t seed, float scale) {
  Generator g(seed);
  Tensor t = Tensor::empty(shape);
  normal_(t, 0.0f, scale, g);
  return t;
}

Tensor rand_uniform(const Shape& shape, uint64_t seed, float low, float high) {
  Generator g(seed);
  Tensor t = Tensor::empty(shape);
  uniform_(t, low, high, g);
  return t;
}

Tensor randint(const Shape& shape, int64_t n, uint64_t seed, DType dtype) {
  Generator g(seed);
  Tensor t = Tensor::empty(shape, dtype);
  randint_(t, n, g);
  return t;
}

namespace {

double weighted_sum(const Tensor& y, const std::vector<float>& w) {
  std::vector<float> v = y.to_vector<float>();
  REQUIRE(v.size() == w.size());
  double acc = 0;
  for (size_t i = 0; i < v.size(); ++i) acc += static_cast<double>(v[i]) * w[i];
  return acc;
}

std::vector<float> weights_for(const Tensor& y) {
  std::vector<float> w = randn(y.shape(), 12345).to_vector<float>();
  return w;
}

}  // namespace

void check_gradients(const OpFn& f, const std::vector<Tensor>& inputs, float eps, float atol, float rtol) {
  for (const Tensor& x : inputs) {
    x.zero_grad();
    REQUIRE_MESSAGE(!x.is_cuda(), "gradient checks run on the CPU");
  }
  Tensor y = f(inputs);
  std::vector<float> w = weights_for(y);
  y.backward(Tensor::from_vector(w, y.shape()));
  int checked = 0;
  for (size_t k = 0; k < inputs.size(); ++k) {
    const Tensor& x = inputs[k];
    if (!x.requires_grad()) continue;
    REQUIRE_MESSAGE(x.grad().defined(), "input ", k, " got no gradient");
    std::vector<float> analytic = x.grad().to_vector<float>();
    float* px = x.data<float>();
    for (int64_t j = 0; j < x.numel(); ++j) {
      float saved = px[j];
      double plus, minus;
      {
        NoGradGuard ng;
        px[j] = saved + eps;
        plus = weighted_sum(f(inputs), w);
        px[j] = saved - eps;
        minus = weighted_sum(f(inputs), w);
        px[j] = saved;
      }
      double numeric = (plus - minus) / (2.0 * eps);
      double a = analytic[j];
      double tol = atol + rtol * std::max(std::fabs(a), std::fabs(numeric));
      if (std::fabs(a - numeric) > tol) {
        FAIL_CHECK("gradient of input ", k, " element ", j, ": analytic ", a, " vs numeric ", numeric);
        return;
      }
      ++checked;
    }
  }
  CHECK_MESSAGE(checked > 0, "no input required grad: nothing was checked");
}

void check_close(const Tensor& actual, const Tensor& expected, float atol, float rtol, const std::string& what) {
  REQUIRE_MESSAGE(actual.shape() == expected.shape(), what, ": shape ", shape_str(actual.shape()), " vs ",
                  shape_str(expected.shape()));
  std::vector<float> a = actual.to_vector<float>(), e = expected.to_vector<float>();
  for (size_t i = 0; i < a.size(); ++i) {
    bool ok = std::fabs(a[i] - e[i]) <= atol + rtol * std::fabs(e[i]);
    if (!ok || std::isnan(a[i]) != std::isnan(e[i])) {
      FAIL_CHECK(what, ": element ", i, " is ", a[i], ", expected ", e[i]);
      return;
    }
  }
}

void check_parity(const OpFn& f, const std::vector<Tensor>& cpu_inputs, float atol, float rtol) {
  std::vector<Tensor> on_gpu;
  for (const Tensor& x : cpu_inputs) {
    x.zero_grad();
    Tensor c = x.to(Device::cuda(0)).detach();
    if (x.requires_grad()) c.set_requires_grad(true);
    on_gpu.push_back(c);
  }
  Tensor y_cpu = f(cpu_inputs);
  Tensor y_gpu = f(on_gpu);
  REQUIRE(y_gpu.is_cuda());
  if (y_cpu.dtype() != DType::f32) {
    CHECK(y_cpu.nbytes() == y_gpu.nbytes());
    return;
  }
  check_close(y_gpu, y_cpu, atol, rtol, "output");
  if (!y_cpu.requires_grad()) return;
  std::vector<float> w = weights_for(y_cpu);
  y_cpu.backward(Tensor::from_vector(w, y_cpu.shape()));
  y_gpu.backward(Tensor::from_vector(w, y_gpu.shape(), Device::cuda(0)));
  for (size_t k = 0; k < cpu_inputs.size(); ++k) {
    if (!cpu_inputs[k].requires_grad()) continue;
    REQUIRE(on_gpu[k].grad().defined());
    check_close(on_gpu[k].grad(), cpu_inputs[k].grad(), atol, rtol, "gradient of input " + std::to_string(k));
  }
}

void check_grads_close(const nn::Module& actual, const nn::Module& expected, float atol, float rtol,
                       const std::string& what) {
  auto a = actual.named_parameters(), e = expected.named_parameters();
  REQUIRE(!e.empty());
  REQUIRE(a.size() == e.size());
  for (size_t k = 0; k < e.size(); ++k) {
    CHECK(a[k].first == e[k].first);
    check_close(a[k].second.grad(), e[k].second.grad(), atol, rtol, what.empty() ? e[k].first : what + " " + e[k].first);
  }
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

std::string data_dir() {
  if (const char* env = std::getenv("CUREC_DATA_DIR"); env && *env) return env;
  return std::string(CUREC_SOURCE_DIR) + "/../shared/data";
}

std::string require_data(const std::string& relative) {
  std::filesystem::path p = std::filesystem::path(data_dir()) / relative;
  if (std::filesystem::exists(p)) return p.string();
  const char* ci = std::getenv("CI");
  std::string msg = "data file " + p.string() + " not found (set CUREC_DATA_DIR)";
  if (ci && std::string(ci) == "true") {
    FAIL(msg, ": CI must provide it");
  }
  std::printf("SKIPPED: %s\n", msg.c_str());
  MESSAGE("SKIPPED: ", msg);
  return "";
}

}  // namespace curec::testing
