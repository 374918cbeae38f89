#include "tests/testing.h"

#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/autograd.h"
#include "core/error.h"
#include "core/random.h"
#if CUREC_WITH_CUDA
#include "core/cuda_context.h"
#endif

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

bool all_finite(const Tensor& t) {
  for (float v : t.to_vector<float>())
    if (!std::isfinite(v)) return false;
  return true;
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

namespace {

// The bytes of a tensor of any dtype, on the host.
std::vector<uint8_t> host_bytes(const Tensor& t) {
  switch (t.dtype()) {
    case DType::u8: return t.to_vector<uint8_t>();
    case DType::f32: {
      std::vector<float> v = t.to_vector<float>();
      const auto* p = reinterpret_cast<const uint8_t*>(v.data());
      return {p, p + v.size() * sizeof(float)};
    }
    case DType::i32: {
      std::vector<int32_t> v = t.to_vector<int32_t>();
      const auto* p = reinterpret_cast<const uint8_t*>(v.data());
      return {p, p + v.size() * sizeof(int32_t)};
    }
    case DType::i64: {
      std::vector<int64_t> v = t.to_vector<int64_t>();
      const auto* p = reinterpret_cast<const uint8_t*>(v.data());
      return {p, p + v.size() * sizeof(int64_t)};
    }
  }
  return {};
}

}  // namespace

void check_same_output(const Tensor& actual, const Tensor& expected, float atol, float rtol, const std::string& what) {
  REQUIRE_MESSAGE(actual.dtype() == expected.dtype(), what, ": dtype ", dtype_name(actual.dtype()), " vs ",
                  dtype_name(expected.dtype()));
  if (expected.dtype() == DType::f32) {
    check_close(actual, expected, atol, rtol, what);
    return;
  }
  REQUIRE_MESSAGE(actual.shape() == expected.shape(), what, ": shape ", shape_str(actual.shape()), " vs ",
                  shape_str(expected.shape()));
  std::vector<uint8_t> a = host_bytes(actual), e = host_bytes(expected);
  REQUIRE(a.size() == e.size());
  const size_t elem = dtype_size(expected.dtype());
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i] != e[i]) {
      FAIL_CHECK(what, ": ", dtype_name(expected.dtype()), " element ", i / elem, " differs (byte ", i % elem,
                 " is ", int(a[i]), ", expected ", int(e[i]), ")");
      return;
    }
  }
}

void check_parity_on(Device device, const OpFn& f, const std::vector<Tensor>& cpu_inputs, float atol, float rtol) {
  std::vector<Tensor> on_device;
  for (const Tensor& x : cpu_inputs) {
    x.zero_grad();
    Tensor c = x.to(device).detach();
    if (device.is_cpu()) c = c.clone();  // its own storage, so the two runs cannot share gradients
    if (x.requires_grad()) c.set_requires_grad(true);
    on_device.push_back(c);
  }
  Tensor y_cpu = f(cpu_inputs);
  Tensor y_dev = f(on_device);
  REQUIRE(y_dev.device() == device);
  check_same_output(y_dev, y_cpu, atol, rtol, "output");
  if (y_cpu.dtype() != DType::f32 || !y_cpu.requires_grad()) return;
  std::vector<float> w = weights_for(y_cpu);
  y_cpu.backward(Tensor::from_vector(w, y_cpu.shape()));
  y_dev.backward(Tensor::from_vector(w, y_dev.shape(), device));
  for (size_t k = 0; k < cpu_inputs.size(); ++k) {
    if (!cpu_inputs[k].requires_grad()) continue;
    REQUIRE(on_device[k].grad().defined());
    check_close(on_device[k].grad(), cpu_inputs[k].grad(), atol, rtol, "gradient of input " + std::to_string(k));
  }
}

void check_parity(const OpFn& f, const std::vector<Tensor>& cpu_inputs, float atol, float rtol) {
  check_parity_on(Device::cuda(0), f, cpu_inputs, atol, rtol);
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

bool env_flag(const char* name) {
  const char* v = std::getenv(name);
  if (!v) return false;
  std::string s;
  for (const char* c = v; *c; ++c) s += static_cast<char>(std::tolower(static_cast<unsigned char>(*c)));
  return s == "1" || s == "true" || s == "yes" || s == "on";
}

bool data_required() { return env_flag("CI") || env_flag("CUREC_REQUIRE_GPU"); }

std::string require_data(const std::string& relative) {
  std::filesystem::path p = std::filesystem::path(data_dir()) / relative;
  if (std::filesystem::exists(p)) return p.string();
  std::string msg = "data file " + p.string() + " not found (set CUREC_DATA_DIR)";
  if (data_required()) {
    FAIL(msg, ": CI and GPU checks (CI=true, CUREC_REQUIRE_GPU=1) must provide it");
  }
  std::printf("SKIPPED: %s\n", msg.c_str());
  MESSAGE("SKIPPED: ", msg);
  return "";
}

SuiteGate gate_cuda_suite(bool cuda_suite, bool names_suite, bool gpu, bool require_gpu, const std::string& why_no_gpu) {
  SuiteGate g;
  if (gpu) return g;
  const bool would_run_cuda = cuda_suite || !names_suite;
  if (would_run_cuda && require_gpu) {
    g.exit_code = 1;
    g.message = "FAILED: CUREC_REQUIRE_GPU is set, so the cuda suite must run, but there is no usable GPU: " +
                why_no_gpu;
    return g;
  }
  if (cuda_suite) {
    g.exit_code = 77;
    g.message = "SKIPPED: no usable CUDA device (" + why_no_gpu + "); CUDA cases not run";
    return g;
  }
  if (!names_suite) {
    g.exclude_cuda = true;
    g.message = "note: no usable CUDA device (" + why_no_gpu + "): the cuda suite is skipped";
  }
  return g;
}

std::string why_no_gpu() {
#if CUREC_WITH_CUDA
  return curec::cuda::device_probe_error();
#else
  return "curec was built without CUDA (configure with -DCUREC_CUDA=ON)";
#endif
}

bool emulated_gpu() {
#if CUREC_WITH_CUDA
  static const bool emulated = [] {
    if (curec::cuda::device_count() == 0) return false;
    cudaDeviceProp p{};
    if (cudaGetDeviceProperties(&p, 0) != cudaSuccess) return false;
    static constexpr char kPrefix[] = "curec emulated";
    return std::strncmp(p.name, kPrefix, sizeof kPrefix - 1) == 0;
  }();
  return emulated;
#else
  return false;
#endif
}

void note_shrunk_under_emulation(const std::string& what) {
  std::printf("SHRUNK under emulation (cuda:0 is the emulated device): %s\n", what.c_str());
  std::fflush(stdout);
  MESSAGE("SHRUNK under emulation (cuda:0 is the emulated device): ", what);
}

TempDir::TempDir() {
  static std::atomic<int> counter{0};
  path = std::filesystem::temp_directory_path() /
         ("curec_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
  std::filesystem::create_directories(path);
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::permissions(path, std::filesystem::perms::owner_all, std::filesystem::perm_options::add, ec);
  std::filesystem::remove_all(path, ec);
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace curec::testing
