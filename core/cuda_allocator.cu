// Caching device allocator. Blocks are tied to the stream current at allocation; since all
// work for a device is ordered on that stream, a freed block can be handed to the next
// allocation on the same stream at once, without synchronising.
#include <map>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/allocator.h"
#include "core/cuda_context.h"
#include "core/out_of_memory.h"

namespace curec::cuda {
namespace {

struct Block {
  void* ptr;
  size_t size;
  cudaStream_t stream;
};

struct Pool {
  std::multimap<size_t, Block> free;          // by size
  std::unordered_map<void*, Block> used;
  MemoryStats stats;
};

std::mutex g_mutex;
std::vector<Pool>& pools() {
  static std::vector<Pool> p(device_count());
  return p;
}

size_t round_size(size_t bytes) {
  constexpr size_t kSmall = 512, kLarge = 2 << 20;
  if (bytes < (1 << 20)) return (bytes + kSmall - 1) / kSmall * kSmall;
  return (bytes + kLarge - 1) / kLarge * kLarge;
}

void release_free_blocks(Pool& pool, int device) {
  DeviceGuard g(device);
  for (auto& [size, b] : pool.free) {
    CUREC_CUDA_CHECK(cudaFree(b.ptr));
    pool.stats.cached_bytes -= b.size;
  }
  pool.free.clear();
}

}  // namespace

void* caching_allocate(size_t bytes, int device) {
  cudaStream_t stream = current_stream(device);
  std::lock_guard lock(g_mutex);
  Pool& pool = pools().at(device);
  size_t size = round_size(bytes);
  // A free block of exactly this (rounded) size on the same stream, never a larger one: a larger
  // block handed to a smaller request leaves the later request of its size without one, so a
  // step that repeats the last step's requests could still miss. With one size per request, the
  // cache serves again any sequence of requests it has served once: of each size it holds as
  // many blocks as that sequence ever had in use at once.
  auto [first, last] = pool.free.equal_range(size);
  for (auto it = first; it != last; ++it) {
    if (it->second.stream != stream) continue;
    Block b = it->second;
    pool.free.erase(it);
    pool.stats.cached_bytes -= b.size;
    pool.used.emplace(b.ptr, b);
    pool.stats.in_use_bytes += b.size;
    pool.stats.peak_bytes = std::max(pool.stats.peak_bytes, pool.stats.in_use_bytes);
    return b.ptr;
  }
  DeviceGuard g(device);
  void* ptr = nullptr;
  cudaError_t err = cudaMalloc(&ptr, size);
  if (err == cudaErrorMemoryAllocation) {
    cudaGetLastError();
    count_host_sync(device);
    CUREC_CUDA_CHECK(cudaStreamSynchronize(stream));
    release_free_blocks(pool, device);
    err = cudaMalloc(&ptr, size);
  }
  if (err != cudaSuccess) {
    cudaGetLastError();
    throw OutOfMemory(size,
                      "cuda:" + std::to_string(device) + " (" + std::to_string(pool.stats.in_use_bytes) +
                          " bytes in use by tensors, " + cudaGetErrorString(err) + ")",
                      "", __FILE__, __LINE__);
  }
  ++pool.stats.system_allocations;
  Block b{ptr, size, stream};
  pool.used.emplace(ptr, b);
  pool.stats.in_use_bytes += size;
  pool.stats.peak_bytes = std::max(pool.stats.peak_bytes, pool.stats.in_use_bytes);
  return ptr;
}

void caching_free(void* ptr, int device) {
  std::lock_guard lock(g_mutex);
  Pool& pool = pools().at(device);
  auto it = pool.used.find(ptr);
  if (it == pool.used.end()) return;  // not ours: never free what we did not allocate
  Block b = it->second;
  pool.used.erase(it);
  pool.stats.in_use_bytes -= b.size;
  pool.stats.cached_bytes += b.size;
  pool.free.emplace(b.size, b);
}

MemoryStats caching_stats(int device) {
  std::lock_guard lock(g_mutex);
  return pools().at(device).stats;
}

void caching_reset_peak(int device) {
  std::lock_guard lock(g_mutex);
  Pool& pool = pools().at(device);
  pool.stats.peak_bytes = pool.stats.in_use_bytes;
}

void caching_empty(int device) {
  count_host_sync(device);
  CUREC_CUDA_CHECK(cudaStreamSynchronize(current_stream(device)));
  std::lock_guard lock(g_mutex);
  release_free_blocks(pools().at(device), device);
}

void* pinned_allocate(size_t bytes) {
  void* p = nullptr;
  CUREC_CUDA_CHECK(cudaHostAlloc(&p, bytes ? bytes : 1, cudaHostAllocDefault));
  return p;
}

void pinned_free(void* ptr) { cudaFreeHost(ptr); }

}  // namespace curec::cuda
