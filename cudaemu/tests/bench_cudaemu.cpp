// The emulated device's speed: emulated CUDA threads per second for three kinds of kernel (one
// atomic a thread; a shared-memory tree reduction with a barrier per level; a warp shuffle
// reduction), under the order $CUREC_EMU_ORDER selects. Prints one JSON object.
#include <chrono>
#include <cstdio>
#include <functional>

#include "cudaemu/grid.h"
#include "probe_kernels.h"

namespace {

double threads_per_second(const std::function<cudaError_t()>& launch) {
  launch();  // warm: stacks and allocations
  uint64_t before = curec_emu::threads_run();
  auto start = std::chrono::steady_clock::now();
  int runs = 0;
  double seconds = 0;
  do {
    if (launch() != cudaSuccess) return -1;
    ++runs;
    seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  } while (seconds < 1.0);
  return double(curec_emu::threads_run() - before) / seconds;
}

}  // namespace

int main() {
  long long count = 0;
  double atomic = threads_per_second([&] { return probe::atomic_count(4096, 256, &count); });
  double barrier = threads_per_second([] { return probe::block_sums(512, 256); });
  double shuffle = threads_per_second([] { return probe::warp_sums(512, 256); });
  std::printf("{\"benchmark\": \"cudaemu\", \"threads_per_second\": {\"atomic_add\": %.0f, "
              "\"block_reduce_8_barriers\": %.0f, \"warp_shuffle_5_steps\": %.0f}}\n",
              atomic, barrier, shuffle);
  return atomic > 0 && barrier > 0 && shuffle > 0 ? 0 : 1;
}
