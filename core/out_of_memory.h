#pragma once
// Running out of memory: the error every allocator throws (CPU and the CUDA caching allocator
// alike), naming the bytes, the device and what needed them, and a fault injection that makes
// the Nth CPU allocation fail, so tests can prove that a failure mid-run loses nothing saved.
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/error.h"

namespace curec {

class OutOfMemory : public Error {
 public:
  // "out of memory allocating BYTES bytes on WHERE[ for WHAT]"; `where` is the device and
  // anything the allocator knows ("cuda:0 (2 GB in use by tensors)").
  OutOfMemory(size_t bytes, std::string where, std::string what, const char* file, int line);
  size_t bytes() const { return bytes_; }
  // The same failure, naming what the memory was for ("a f32 tensor of shape [943, 64]").
  OutOfMemory needed_for(const std::string& what) const;

 private:
  size_t bytes_;
  std::string where_, what_;
};

// Tests: the `nth` CPU allocation from now fails with OutOfMemory (0 disarms); the allocations
// after it succeed again. CUREC_FAIL_ALLOCATION=N in the environment arms it from the start of
// the process, for end-to-end tests of the tool.
void fail_cpu_allocation(uint64_t nth);

namespace detail {
// Whether this CPU allocation is the one armed to fail (called by the allocator).
bool injected_allocation_failure();
}  // namespace detail

}  // namespace curec
