// The test machinery a GPU check relies on, tested without a GPU: a cuda-suite run fails rather
// than skips when a GPU is required, missing data fails under CI and GPU checks, and parity
// checks compare every dtype's bytes.
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "core/device.h"
#include "ops/elementwise.h"
#include "tests/testing.h"

using namespace curec;

namespace {

// Sets (or, for nullptr, unsets) an environment variable for one scope.
class EnvGuard {
 public:
  EnvGuard(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) {
      had_ = true;
      old_ = old;
    }
    if (value) setenv(name, value, 1);
    else unsetenv(name);
  }
  ~EnvGuard() {
    if (had_) setenv(name_, old_.c_str(), 1);
    else unsetenv(name_);
  }

 private:
  const char* name_;
  bool had_ = false;
  std::string old_;
};

// Exit status of this test executable run again with `args` (and environment prefix `env`).
int run_self(const std::string& env, const std::string& args) {
  const std::string self = std::filesystem::read_symlink("/proc/self/exe").string();
  const std::string cmd = env + " '" + self + "' " + args + " >/dev/null 2>&1";
  const int status = std::system(cmd.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace

TEST_CASE("gate_cuda_suite: skip without a GPU, fail when one is required") {
  using testing::gate_cuda_suite;
  // A GPU: run everything as asked.
  auto g = gate_cuda_suite(true, true, true, true, "");
  CHECK(g.exit_code == -1);
  CHECK_FALSE(g.exclude_cuda);
  // No GPU, cuda suite asked for: skipped (77) on a CPU machine ...
  g = gate_cuda_suite(true, true, false, false, "cudaErrorNoDevice: no CUDA-capable device is detected");
  CHECK(g.exit_code == 77);
  CHECK(g.message.find("cudaErrorNoDevice") != std::string::npos);
  // ... and a failure when the run must test a GPU.
  g = gate_cuda_suite(true, true, false, true, "cudaErrorInsufficientDriver: driver too old");
  CHECK(g.exit_code == 1);
  CHECK(g.message.find("CUREC_REQUIRE_GPU") != std::string::npos);
  CHECK(g.message.find("driver too old") != std::string::npos);
  // No suite named: the CPU cases run, the cuda suite is left out, unless a GPU is required.
  g = gate_cuda_suite(false, false, false, false, "none");
  CHECK(g.exit_code == -1);
  CHECK(g.exclude_cuda);
  CHECK(gate_cuda_suite(false, false, false, true, "none").exit_code == 1);
  // The CPU entries (--test-suite-exclude=cuda) need no GPU, required or not.
  g = gate_cuda_suite(false, true, false, true, "none");
  CHECK(g.exit_code == -1);
  CHECK_FALSE(g.exclude_cuda);
}

TEST_CASE("env_flag and data_required: CI=true and CUREC_REQUIRE_GPU=1 make missing data fail") {
  EnvGuard ci("CI", nullptr), gpu("CUREC_REQUIRE_GPU", nullptr);
  CHECK_FALSE(testing::data_required());
  for (const char* yes : {"1", "true", "TRUE", "yes", "on"}) {
    EnvGuard g("CUREC_REQUIRE_GPU", yes);
    CHECK(testing::env_flag("CUREC_REQUIRE_GPU"));
    CHECK(testing::data_required());
  }
  for (const char* no : {"", "0", "false", "no"}) {
    EnvGuard g("CI", no);
    CHECK_FALSE(testing::env_flag("CI"));
    CHECK_FALSE(testing::data_required());
  }
  EnvGuard c("CI", "true");
  CHECK(testing::data_required());
}

TEST_CASE("a missing data file skips the test here, and fails it under CUREC_REQUIRE_GPU" * doctest::should_fail()) {
  EnvGuard ci("CI", nullptr), gpu("CUREC_REQUIRE_GPU", nullptr);
  CHECK(testing::require_data("no-such-dir/no-such-file.txt").empty());
  EnvGuard g("CUREC_REQUIRE_GPU", "1");
  testing::require_data("no-such-dir/no-such-file.txt");  // FAILs: this test case is expected to fail
}

TEST_CASE("this executable: --test-suite=cuda without a GPU is Skipped (77), or fails when a GPU is required") {
  if (cuda_available()) {
    MESSAGE("a GPU is present: the cuda suite runs for real; nothing to check here");
    return;
  }
  CHECK(run_self("env -u CUREC_REQUIRE_GPU", "--test-suite=cuda") == 77);
  CHECK(run_self("env CUREC_REQUIRE_GPU=1", "--test-suite=cuda") == 1);
  CHECK(run_self("env CUREC_REQUIRE_GPU=1", "-ts=cpu,cuda") == 1);
  // The CPU entries still run (and pass) on a machine that must test a GPU but has none.
  CHECK(run_self("env CUREC_REQUIRE_GPU=1", "--test-suite-exclude=cuda --test-case='gate_cuda_suite*'") == 0);
}

TEST_CASE("check_same_output: f32 within tolerance, other dtypes byte for byte") {
  Tensor a = Tensor::from_vector<int64_t>({1, 2, 3}, {3});
  testing::check_same_output(a, a.clone(), 0, 0, "i64");
  Tensor f = Tensor::from_vector<float>({1.0f, 2.0f}, {2});
  testing::check_same_output(Tensor::from_vector<float>({1.0f, 2.00001f}, {2}), f, 1e-4f, 0, "f32");
  Tensor m = Tensor::from_vector<uint8_t>({0, 1, 1}, {3});
  testing::check_same_output(m, m.clone(), 0, 0, "u8");
}

TEST_CASE("check_same_output: an i64 output that differs in one element fails" * doctest::should_fail()) {
  testing::check_same_output(Tensor::from_vector<int64_t>({1, 2, 4}, {3}),
                             Tensor::from_vector<int64_t>({1, 2, 3}, {3}), 0, 0, "i64");
}

TEST_CASE("check_same_output: an i32 output of equal size but another dtype fails" * doctest::should_fail()) {
  testing::check_same_output(Tensor::from_vector<int32_t>({1, 2}, {2}), Tensor::from_vector<float>({1, 2}, {2}), 0, 0,
                             "dtype");
}

TEST_CASE("check_parity_on: a non-f32 op whose second run differs fails (no longer compared by size)" *
          doctest::should_fail()) {
  int calls = 0;
  testing::OpFn f = [&](const std::vector<Tensor>& in) {
    (void)in;
    ++calls;
    return Tensor::from_vector<int64_t>({7, calls == 1 ? 8 : 9}, {2});
  };
  testing::check_parity_on(Device::cpu(), f, {Tensor::zeros({2})});
}

TEST_CASE("check_parity_on: the same op on the CPU twice agrees, outputs and gradients") {
  Tensor x = testing::randn({3, 4}, 1);
  x.set_requires_grad();
  testing::check_parity_on(Device::cpu(), [](const std::vector<Tensor>& in) { return in[0] * in[0]; }, {x}, 0, 0);
  Tensor ids = testing::randint({5}, 9, 2);
  testing::check_parity_on(Device::cpu(), [](const std::vector<Tensor>& in) { return in[0].clone(); }, {ids});
}
