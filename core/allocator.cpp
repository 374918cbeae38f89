#include "core/allocator.h"

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <new>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "core/error.h"
#include "core/out_of_memory.h"
#if CUREC_WITH_CUDA
#include "core/cuda_context.h"
#endif

namespace curec {
namespace {
std::atomic<size_t> cpu_in_use{0}, cpu_peak{0};
std::atomic<uint64_t> cpu_allocs{0};
constexpr size_t kAlign = 64;

// CPU tensors come from the C heap. A training step frees and allocates the same large
// activations again every step; glibc would serve blocks above its mmap threshold by fresh mmap
// calls (page faults and zeroing every step: 2-3% of AutoRec's CPU time) and trim freed memory
// back to the kernel. Raised thresholds keep blocks up to 64 MiB in the heap for reuse, as a
// caching allocator would. Once, before the first CPU tensor.
void keep_freed_memory() {
#if defined(__GLIBC__)
  static const bool once = [] {
    mallopt(M_MMAP_THRESHOLD, 64 << 20);
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
    return true;
  }();
  (void)once;
#endif
}
}  // namespace

void* allocate_bytes(size_t bytes, Device device) {
  if (bytes == 0) bytes = 1;
  if (device.is_cuda()) {
#if CUREC_WITH_CUDA
    return cuda::caching_allocate(bytes, device.index);
#else
    CUREC_FAIL("cannot allocate on ", device.str(), ": curec was built without CUDA (configure with -DCUREC_CUDA=ON)");
#endif
  }
  keep_freed_memory();
  const size_t rounded = bytes > SIZE_MAX - kAlign ? 0 : (bytes + kAlign - 1) / kAlign * kAlign;
  void* p = rounded && !detail::injected_allocation_failure() ? std::aligned_alloc(kAlign, rounded) : nullptr;
  if (!p) throw OutOfMemory(bytes, "cpu", "", __FILE__, __LINE__);
  size_t now = cpu_in_use += bytes;
  size_t peak = cpu_peak.load();
  while (now > peak && !cpu_peak.compare_exchange_weak(peak, now)) {}
  ++cpu_allocs;
  return p;
}

void free_bytes(void* ptr, size_t bytes, Device device) {
  if (!ptr) return;
  if (bytes == 0) bytes = 1;
  if (device.is_cuda()) {
#if CUREC_WITH_CUDA
    cuda::caching_free(ptr, device.index);
#endif
    return;
  }
  std::free(ptr);
  cpu_in_use -= bytes;
}

MemoryStats memory_stats(Device device) {
  if (device.is_cuda()) {
#if CUREC_WITH_CUDA
    return cuda::caching_stats(device.index);
#else
    return {};
#endif
  }
  return MemoryStats{cpu_in_use.load(), cpu_peak.load(), 0, cpu_allocs.load()};
}

void reset_peak(Device device) {
  if (device.is_cuda()) {
#if CUREC_WITH_CUDA
    cuda::caching_reset_peak(device.index);
#endif
    return;
  }
  cpu_peak = cpu_in_use.load();
}

void empty_cache(Device device) {
#if CUREC_WITH_CUDA
  if (device.is_cuda()) cuda::caching_empty(device.index);
#else
  (void)device;
#endif
}

uint64_t host_sync_count(Device device) {
#if CUREC_WITH_CUDA
  if (device.is_cuda()) return cuda::host_sync_count(device.index);
#endif
  (void)device;
  return 0;
}

PinnedBuffer::PinnedBuffer(size_t bytes) : bytes_(bytes) {
#if CUREC_WITH_CUDA
  if (cuda_available()) {
    ptr_ = cuda::pinned_allocate(bytes);
    return;
  }
#endif
  ptr_ = std::malloc(bytes ? bytes : 1);
  if (!ptr_) throw OutOfMemory(bytes, "cpu", "a pinned buffer", __FILE__, __LINE__);
}

PinnedBuffer::~PinnedBuffer() {
  if (!ptr_) return;
#if CUREC_WITH_CUDA
  if (cuda_available()) {
    cuda::pinned_free(ptr_);
    return;
  }
#endif
  std::free(ptr_);
}

PinnedBuffer::PinnedBuffer(PinnedBuffer&& o) noexcept : ptr_(o.ptr_), bytes_(o.bytes_) {
  o.ptr_ = nullptr;
  o.bytes_ = 0;
}

PinnedBuffer& PinnedBuffer::operator=(PinnedBuffer&& o) noexcept {
  if (this != &o) {
    this->~PinnedBuffer();
    ptr_ = o.ptr_;
    bytes_ = o.bytes_;
    o.ptr_ = nullptr;
    o.bytes_ = 0;
  }
  return *this;
}

}  // namespace curec
