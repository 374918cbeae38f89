#pragma once
// The contract every op test follows: a central-difference gradient check on the CPU, and
// CPU-vs-CUDA parity of outputs and gradients on random inputs.
#include <doctest/doctest.h>

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "nn/module.h"

namespace curec::testing {

using OpFn = std::function<Tensor(const std::vector<Tensor>&)>;

// Random normal f32 tensor (never zeros), deterministic in `seed`.
Tensor randn(const Shape& shape, uint64_t seed, float scale = 1.0f);
// Random uniform f32 in [low, high).
Tensor rand_uniform(const Shape& shape, uint64_t seed, float low, float high);
// Random integers in [0, n) as i32 or i64.
Tensor randint(const Shape& shape, int64_t n, uint64_t seed, DType dtype = DType::i64);

// Checks the analytic gradient of every input with requires_grad() against central
// differences of sum(w * f(inputs)) for a fixed random w.
void check_gradients(const OpFn& f, const std::vector<Tensor>& inputs, float eps = 1e-3f, float atol = 2e-3f,
                     float rtol = 2e-2f);

// Runs f on the CPU inputs and on copies on cuda:0; outputs and gradients must agree: f32
// within the tolerances, every other dtype byte for byte.
void check_parity(const OpFn& f, const std::vector<Tensor>& cpu_inputs, float atol = 1e-4f, float rtol = 1e-4f);
// The same against copies on `device` (check_parity is check_parity_on(Device::cuda(0), ...));
// on the CPU it lets the comparison itself be tested without a GPU.
void check_parity_on(Device device, const OpFn& f, const std::vector<Tensor>& cpu_inputs, float atol = 1e-4f,
                     float rtol = 1e-4f);
// One output against another of any dtype: same shape and dtype; f32 within atol + rtol * |e|,
// other dtypes byte for byte. Reports the first mismatch.
void check_same_output(const Tensor& actual, const Tensor& expected, float atol, float rtol, const std::string& what);

// Whether every element of an f32 tensor (on any device) is finite: no NaN, no ±inf.
bool all_finite(const Tensor& t);

// Element-wise closeness; reports the first mismatch.
void check_close(const Tensor& actual, const Tensor& expected, float atol, float rtol, const std::string& what);

// The gradients of `actual`'s parameters match `expected`'s, parameter by parameter (same names,
// same order; e.g. a model on cuda:0 against its CPU twin after the same backward).
void check_grads_close(const nn::Module& actual, const nn::Module& expected, float atol, float rtol,
                       const std::string& what = "");

// A fresh folder under the system's temporary folder, removed whole (write bits restored first,
// for tests that take them away) when the object goes.
struct TempDir {
  std::filesystem::path path;
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string file(const std::string& name) const { return (path / name).string(); }
};
// A whole file as text ("" when it cannot be read).
std::string read_text(const std::string& path);

// What f throws as a curec::Error (its what()), or "" when it throws nothing.
std::string error_of(const std::function<void()>& f);

// $CUREC_DATA_DIR, else ../shared/data beside the checkout.
std::string data_dir();
// Whether environment variable `name` is set to a true value: 1, true, yes or on (any case).
bool env_flag(const char* name);
// Whether a missing data file fails the test instead of skipping it: under CI (CI=true) and in
// a GPU check (CUREC_REQUIRE_GPU=1, set by scripts/gpu-check), which must not pass by testing nothing.
bool data_required();
// The path of a data file, or "" after printing a visible SKIPPED line; when data_required(),
// missing data fails the test instead.
std::string require_data(const std::string& relative);

// What a test executable (tests/main.cpp) does before doctest runs, given whether its command
// line selects the "cuda" suite, names a suite at all, whether a GPU is usable, whether
// CUREC_REQUIRE_GPU is set, and why there is no GPU. Without a GPU a cuda-suite run is skipped
// (exit 77, which ctest shows as Skipped) unless a GPU is required, when it fails (exit 1).
struct SuiteGate {
  int exit_code = -1;         // >= 0: exit with it before running anything
  bool exclude_cuda = false;  // run, leaving out the cuda suite
  std::string message;        // printed first (stderr when exit_code > 0)
};
SuiteGate gate_cuda_suite(bool cuda_suite, bool names_suite, bool gpu, bool require_gpu, const std::string& why_no_gpu);
// Why this process has no usable GPU ("" when it has one): a CPU-only build, or the driver's answer.
std::string why_no_gpu();

// Whether cuda:0 is the emulated CUDA device of a -DCUREC_CUDA_EMULATE=ON build (cudaemu/ names
// its devices "curec emulated ..."), where a kernel runs a few million threads a second: a cuda
// case that trains a whole recipe shrinks its sizes there. False in a CPU-only build, on a real
// GPU, and without a device.
bool emulated_gpu();
// Prints a visible line (stdout and a doctest MESSAGE) that this case runs shrunk sizes on the
// emulated device, saying what it runs instead of the full-size check.
void note_shrunk_under_emulation(const std::string& what);

}  // namespace curec::testing

// Use at the start of a test case that needs a data file.
#define CUREC_REQUIRE_DATA(var, relative)                      \
  std::string var = ::curec::testing::require_data(relative); \
  if (var.empty()) return
