// doctest main: a run of the "cuda" suite without a GPU exits 77, which ctest shows as Skipped.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>
#include <string>

#include "core/device.h"

int main(int argc, char** argv) {
  bool cuda_suite = false;
  for (int i = 1; i < argc; ++i)
    if (std::string(argv[i]) == "--test-suite=cuda") cuda_suite = true;
  if (cuda_suite && !curec::cuda_available()) {
    std::printf("SKIPPED: no CUDA device on this machine (curec built %s CUDA); CUDA cases not run\n",
                curec::built_with_cuda() ? "with" : "without");
    return 77;
  }
  doctest::Context context(argc, argv);
  return context.run();
}
