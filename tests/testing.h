#pragma once
// The contract every op test follows: a central-difference gradient check on the CPU, and
// CPU-vs-CUDA parity of outputs and gradients on random inputs.
#include <doctest/doctest.h>

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

// Runs f on the CPU inputs and on copies on cuda:0; outputs and gradients must agree.
void check_parity(const OpFn& f, const std::vector<Tensor>& cpu_inputs, float atol = 1e-4f, float rtol = 1e-4f);

// Element-wise closeness; reports the first mismatch.
void check_close(const Tensor& actual, const Tensor& expected, float atol, float rtol, const std::string& what);

// The gradients of `actual`'s parameters match `expected`'s, parameter by parameter (same names,
// same order; e.g. a model on cuda:0 against its CPU twin after the same backward).
void check_grads_close(const nn::Module& actual, const nn::Module& expected, float atol, float rtol,
                       const std::string& what = "");

// What f throws as a curec::Error (its what()), or "" when it throws nothing.
std::string error_of(const std::function<void()>& f);

// $CUREC_DATA_DIR, else ../shared/data beside the checkout.
std::string data_dir();
// The path of a data file, or "" after printing a visible SKIPPED line. Under CI (CI=true)
// missing data fails the test instead: CI must have what the tests need.
std::string require_data(const std::string& relative);

}  // namespace curec::testing

// Use at the start of a test case that needs a data file.
#define CUREC_REQUIRE_DATA(var, relative)                      \
  std::string var = ::curec::testing::require_data(relative); \
  if (var.empty()) return
