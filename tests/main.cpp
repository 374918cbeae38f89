// doctest main: a run of the "cuda" suite without a GPU exits 77, which ctest shows as Skipped;
// a run that names no suite skips the cuda suite there, saying so.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>
#include <string>

#include "core/device.h"

int main(int argc, char** argv) {
  bool cuda_suite = false, names_suite = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--test-suite=cuda") cuda_suite = true;
    if (arg.rfind("--test-suite", 0) == 0 || arg.rfind("-ts", 0) == 0 || arg.rfind("-tse", 0) == 0) names_suite = true;
  }
  const bool gpu = curec::cuda_available();
  if (cuda_suite && !gpu) {
    std::printf("SKIPPED: no CUDA device on this machine (curec built %s CUDA); CUDA cases not run\n",
                curec::built_with_cuda() ? "with" : "without");
    return 77;
  }
  doctest::Context context(argc, argv);
  if (!names_suite && !gpu) {
    std::printf("note: no CUDA device on this machine: the cuda suite is skipped\n");
    context.addFilter("test-suite-exclude", "cuda");
  }
  return context.run();
}
