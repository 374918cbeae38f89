#pragma once
// Memory for tensors. CPU memory is 64-byte aligned; CUDA memory comes from a caching,
// stream-ordered allocator so that a training step in steady state never calls cudaMalloc.
#include <cstddef>
#include <cstdint>

#include "core/device.h"

namespace curec {

struct MemoryStats {
  size_t in_use_bytes = 0;   // held by live tensors
  size_t peak_bytes = 0;     // highest in_use_bytes seen
  size_t cached_bytes = 0;   // freed by tensors, kept for reuse (CUDA only)
  uint64_t system_allocations = 0;  // calls to malloc / cudaMalloc
};

void* allocate_bytes(size_t bytes, Device device);
void free_bytes(void* ptr, size_t bytes, Device device);

MemoryStats memory_stats(Device device);
void reset_peak(Device device);
// Returns cached CUDA blocks to the driver (nothing to do on CPU).
void empty_cache(Device device);

// Times the host has waited for `device` so far (0 for the CPU): stream and event waits,
// device-to-host copies, copies from pinned memory. With memory_stats(device).system_allocations
// this is how a test checks that a training step in steady state neither syncs nor allocates.
uint64_t host_sync_count(Device device);

// Page-locked host memory for fast, asynchronous host<->device copies (plain memory in a
// CPU-only build). Move-only.
class PinnedBuffer {
 public:
  PinnedBuffer() = default;
  explicit PinnedBuffer(size_t bytes);
  ~PinnedBuffer();
  PinnedBuffer(PinnedBuffer&& o) noexcept;
  PinnedBuffer& operator=(PinnedBuffer&& o) noexcept;
  PinnedBuffer(const PinnedBuffer&) = delete;
  PinnedBuffer& operator=(const PinnedBuffer&) = delete;
  void* data() const { return ptr_; }
  size_t size() const { return bytes_; }

 private:
  void* ptr_ = nullptr;
  size_t bytes_ = 0;
};

#if CUREC_WITH_CUDA
namespace cuda {
void* caching_allocate(size_t bytes, int device);
void caching_free(void* ptr, int device);
MemoryStats caching_stats(int device);
void caching_reset_peak(int device);
void caching_empty(int device);
void* pinned_allocate(size_t bytes);
void pinned_free(void* ptr);
}  // namespace cuda
#endif

}  // namespace curec
