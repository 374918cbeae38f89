// doctest main: a run of the "cuda" suite without a GPU exits 77, which ctest shows as Skipped;
// a run that names no suite skips the cuda suite there, saying so. With CUREC_REQUIRE_GPU set
// (scripts/gpu-check sets it) both fail instead: a GPU check must not pass by testing nothing.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>
#include <string>

#include "core/device.h"
#include "tests/testing.h"

namespace {

// Whether a --test-suite / -ts value (a comma-separated list of patterns) names the cuda suite.
bool selects_cuda(const std::string& value) {
  size_t start = 0;
  while (start <= value.size()) {
    size_t end = value.find(',', start);
    if (end == std::string::npos) end = value.size();
    if (value.substr(start, end - start) == "cuda") return true;
    start = end + 1;
  }
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  bool cuda_suite = false, names_suite = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    for (const char* flag : {"--test-suite=", "-ts="})
      if (arg.rfind(flag, 0) == 0 && selects_cuda(arg.substr(std::string(flag).size()))) cuda_suite = true;
    if (arg.rfind("--test-suite", 0) == 0 || arg.rfind("-ts", 0) == 0 || arg.rfind("-tse", 0) == 0) names_suite = true;
  }
  const bool gpu = curec::cuda_available();
  const curec::testing::SuiteGate gate = curec::testing::gate_cuda_suite(
      cuda_suite, names_suite, gpu, curec::testing::env_flag("CUREC_REQUIRE_GPU"), gpu ? "" : curec::testing::why_no_gpu());
  if (!gate.message.empty()) {
    std::fprintf(gate.exit_code > 0 && gate.exit_code != 77 ? stderr : stdout, "%s\n", gate.message.c_str());
    std::fflush(nullptr);
  }
  if (gate.exit_code >= 0) return gate.exit_code;
  doctest::Context context(argc, argv);
  if (gate.exclude_cuda) context.addFilter("test-suite-exclude", "cuda");
  return context.run();
}
