#include <cub/device/device_radix_sort.cuh>

#include "core/cuda_scratch.h"
#include "core/cuda_context.h"
#include "core/random.h"
#include "core/random_math.h"

namespace curec::cuda {
namespace {

__global__ void uniform_kernel(float* out, int64_t n, float low, float high, uint64_t seed, uint64_t off) {
  // Rounded multiply and add, as the CPU loop does them: nvcc would otherwise fuse them into one
  // FMA, and the two backends' draws would differ in the last bit for most ranges.
  CUREC_GRID_LOOP(i, n) out[i] = __fadd_rn(low, __fmul_rn(high - low, philox::uniform(seed, off, i)));
}
__global__ void normal_kernel(float* out, int64_t n, float mean, float sd, uint64_t seed, uint64_t off) {
  CUREC_GRID_LOOP(i, n) out[i] = random_math::normal(seed, off, i, mean, sd);
}
template <class T>
__global__ void randint_kernel(T* out, int64_t n, uint64_t bound, uint64_t seed, uint64_t off) {
  CUREC_GRID_LOOP(i, n) out[i] = static_cast<T>(philox::below(seed, off, i, bound));
}
__global__ void perm_keys_kernel(uint64_t* keys, int64_t* idx, int64_t n, uint64_t seed, uint64_t off) {
  CUREC_GRID_LOOP(i, n) {
    keys[i] = random_math::perm_key(seed, off, i);
    idx[i] = i;
  }
}

}  // namespace

void uniform(float* out, int64_t n, float low, float high, uint64_t seed, uint64_t offset, int device) {
  if (!n) return;
  DeviceGuard g(device);
  uniform_kernel<<<grid_for(n), 256, 0, current_stream(device)>>>(out, n, low, high, seed, offset);
  CUREC_KERNEL_CHECK();
}

void normal(float* out, int64_t n, float mean, float stddev, uint64_t seed, uint64_t offset, int device) {
  if (!n) return;
  DeviceGuard g(device);
  normal_kernel<<<grid_for(n), 256, 0, current_stream(device)>>>(out, n, mean, stddev, seed, offset);
  CUREC_KERNEL_CHECK();
}

void randint(void* out, bool is64, int64_t n, int64_t bound, uint64_t seed, uint64_t offset, int device) {
  if (!n) return;
  DeviceGuard g(device);
  if (is64)
    randint_kernel<<<grid_for(n), 256, 0, current_stream(device)>>>(static_cast<int64_t*>(out), n, bound, seed, offset);
  else
    randint_kernel<<<grid_for(n), 256, 0, current_stream(device)>>>(static_cast<int32_t*>(out), n, bound, seed, offset);
  CUREC_KERNEL_CHECK();
}

void randperm(int64_t* out, int64_t n, uint64_t seed, uint64_t offset, int device) {
  if (!n) return;
  DeviceGuard g(device);
  cudaStream_t s = current_stream(device);
  Scratch keys(n * sizeof(uint64_t), device), keys_sorted(n * sizeof(uint64_t), device), idx(n * sizeof(int64_t), device);
  perm_keys_kernel<<<grid_for(n), 256, 0, s>>>(keys.get<uint64_t>(), idx.get<int64_t>(), n, seed, offset);
  CUREC_KERNEL_CHECK();
  size_t temp_bytes = 0;
  CUREC_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(nullptr, temp_bytes, keys.get<uint64_t>(),
                                                   keys_sorted.get<uint64_t>(), idx.get<int64_t>(),
                                                   out, n, 0, 64, s));
  Scratch temp(temp_bytes, device);
  // Radix sort is stable, so equal keys keep index order as std::stable_sort does on the CPU.
  CUREC_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(temp.get(), temp_bytes, keys.get<uint64_t>(),
                                                   keys_sorted.get<uint64_t>(), idx.get<int64_t>(),
                                                   out, n, 0, 64, s));
}

}  // namespace curec::cuda
