#include "core/out_of_memory.h"

#include <atomic>
#include <cstdlib>
#include <string_view>

namespace curec {
namespace {

std::string oom_message(size_t bytes, const std::string& where, const std::string& what) {
  return "out of memory allocating " + std::to_string(bytes) + " bytes on " + where +
         (what.empty() ? std::string() : " for " + what);
}

// Allocations left before the armed one fails; 0: not armed.
std::atomic<uint64_t> g_countdown{[] {
  const char* env = std::getenv("CUREC_FAIL_ALLOCATION");
  return env ? std::strtoull(env, nullptr, 10) : 0ull;
}()};

}  // namespace

OutOfMemory::OutOfMemory(size_t bytes, std::string where, std::string what, const char* file, int line)
    : Error(oom_message(bytes, where, what), file, line), bytes_(bytes), where_(std::move(where)), what_(std::move(what)) {}

OutOfMemory OutOfMemory::needed_for(const std::string& what) const {
  return OutOfMemory(bytes_, where_, what, this->file(), this->line());
}

void fail_cpu_allocation(uint64_t nth) { g_countdown = nth; }

bool detail::injected_allocation_failure() {
  uint64_t left = g_countdown.load(std::memory_order_relaxed);
  while (left != 0 && !g_countdown.compare_exchange_weak(left, left - 1)) {}
  return left == 1;
}

}  // namespace curec
