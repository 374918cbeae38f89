#include <cub/device/device_radix_sort.cuh>

#include "core/cuda_context.h"
#include "core/cuda_scratch.h"
#include "ops/embedding.h"

namespace curec::cuda {
namespace {

constexpr int kBlock = 256;
constexpr int kWarp = 32;

// One thread per output element of type V (float, or float4 when rows are 16-byte aligned):
// neighbouring threads copy neighbouring columns of a row, so loads and stores coalesce.
template <class I, class V>
__global__ void gather_kernel(const V* __restrict__ table, int64_t rows, int64_t width, const I* __restrict__ ids,
                              int64_t total, V* __restrict__ out, DeviceErrorFlag* flag) {
  CUREC_GRID_LOOP(i, total) {
    const int64_t r = i / width, c = i - r * width;
    const int64_t id = static_cast<int64_t>(ids[r]);
    if (id < 0 || id >= rows) {
      if (c == 0) raise_error(flag, kIndexOutOfRange, id, rows);
      out[i] = V{};
    } else {
      out[i] = table[id * width + c];
    }
  }
}

template <class I>
__global__ void scatter_atomic_kernel(const float* __restrict__ grad, const I* __restrict__ ids, int64_t total,
                                      int64_t width, float* table_grad, int64_t rows, DeviceErrorFlag* flag) {
  CUREC_GRID_LOOP(i, total) {
    const int64_t r = i / width, c = i - r * width;
    const int64_t id = static_cast<int64_t>(ids[r]);
    if (id < 0 || id >= rows) {
      if (c == 0) raise_error(flag, kIndexOutOfRange, id, rows);
      continue;
    }
    atomicAdd(table_grad + id * width + c, grad[i]);
  }
}

// Sort keys: the id, or `rows` for a bad id (sorted last and skipped).
template <class I>
__global__ void sort_keys_kernel(const I* __restrict__ ids, int64_t n, int64_t rows, int64_t* keys, int64_t* pos,
                                 DeviceErrorFlag* flag) {
  CUREC_GRID_LOOP(i, n) {
    const int64_t id = static_cast<int64_t>(ids[i]);
    const bool bad = id < 0 || id >= rows;
    if (bad) raise_error(flag, kIndexOutOfRange, id, rows);
    keys[i] = bad ? rows : id;
    pos[i] = i;
  }
}

// One warp per sorted slot; the warp at the first slot of a run of equal ids sums that run's
// gradient rows in position order (the radix sort is stable) and writes the table row once.
__global__ void sum_runs_kernel(const float* __restrict__ grad, const int64_t* __restrict__ keys,
                                const int64_t* __restrict__ pos, int64_t n, int64_t width, float* table_grad,
                                int64_t rows) {
  const int64_t warps = int64_t(gridDim.x) * blockDim.x / kWarp;
  const int lane = threadIdx.x % kWarp;
  for (int64_t j = (blockIdx.x * int64_t(blockDim.x) + threadIdx.x) / kWarp; j < n; j += warps) {
    const int64_t key = keys[j];
    if (key >= rows || (j > 0 && keys[j - 1] == key)) continue;
    int64_t end = j + 1;
    while (end < n && keys[end] == key) ++end;
    for (int64_t c = lane; c < width; c += kWarp) {
      float acc = 0.0f;
      for (int64_t k = j; k < end; ++k) acc += grad[pos[k] * width + c];
      table_grad[key * width + c] = acc;
    }
  }
}

__global__ void widen_kernel(const int32_t* __restrict__ in, int64_t* __restrict__ out, int64_t n) {
  CUREC_GRID_LOOP(i, n) out[i] = in[i];
}

bool aligned16(const void* p) { return reinterpret_cast<uintptr_t>(p) % 16 == 0; }

// Bits that hold every key in [0, rows] (so the radix sort skips the always-zero high bits).
int key_bits(int64_t rows) {
  int bits = 1;
  while (bits < 63 && (int64_t(1) << bits) <= rows) ++bits;
  return bits;
}

template <class I>
void gather_typed(const float* table, int64_t rows, int64_t width, const I* ids, int64_t n, float* out, int device) {
  cudaStream_t s = current_stream(device);
  DeviceErrorFlag* flag = device_error_flag(device);
  if (width % 4 == 0 && aligned16(table) && aligned16(out)) {
    const int64_t w4 = width / 4, total = n * w4;
    gather_kernel<I, float4><<<grid_for(total, kBlock), kBlock, 0, s>>>(
        reinterpret_cast<const float4*>(table), rows, w4, ids, total, reinterpret_cast<float4*>(out), flag);
  } else {
    const int64_t total = n * width;
    gather_kernel<I, float><<<grid_for(total, kBlock), kBlock, 0, s>>>(table, rows, width, ids, total, out, flag);
  }
  CUREC_KERNEL_CHECK();
}

template <class I>
void scatter_sorted_typed(const float* grad, const I* ids, int64_t n, int64_t width, float* table_grad, int64_t rows,
                          int device) {
  cudaStream_t s = current_stream(device);
  Scratch keys(n * sizeof(int64_t), device), keys_sorted(n * sizeof(int64_t), device);
  Scratch pos(n * sizeof(int64_t), device), pos_sorted(n * sizeof(int64_t), device);
  sort_keys_kernel<<<grid_for(n, kBlock), kBlock, 0, s>>>(ids, n, rows, keys.get<int64_t>(), pos.get<int64_t>(),
                                                         device_error_flag(device));
  CUREC_KERNEL_CHECK();
  const int end_bit = key_bits(rows);
  size_t temp_bytes = 0;
  CUREC_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(nullptr, temp_bytes, keys.get<int64_t>(),
                                                   keys_sorted.get<int64_t>(), pos.get<int64_t>(),
                                                   pos_sorted.get<int64_t>(), n, 0, end_bit, s));
  Scratch temp(temp_bytes, device);
  CUREC_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(temp.get(), temp_bytes, keys.get<int64_t>(),
                                                   keys_sorted.get<int64_t>(), pos.get<int64_t>(),
                                                   pos_sorted.get<int64_t>(), n, 0, end_bit, s));
  sum_runs_kernel<<<grid_for(n * kWarp, kBlock), kBlock, 0, s>>>(grad, keys_sorted.get<int64_t>(),
                                                                 pos_sorted.get<int64_t>(), n, width, table_grad, rows);
  CUREC_KERNEL_CHECK();
}

}  // namespace

void embedding_gather(const float* table, int64_t rows, int64_t width, const void* indices, bool idx64, int64_t n,
                      float* out, int device) {
  if (n == 0 || width == 0) return;
  DeviceGuard guard(device);
  if (idx64)
    gather_typed(table, rows, width, static_cast<const int64_t*>(indices), n, out, device);
  else
    gather_typed(table, rows, width, static_cast<const int32_t*>(indices), n, out, device);
}

void embedding_scatter_atomic(const float* grad, const void* indices, bool idx64, int64_t n, int64_t width,
                              float* table_grad, int64_t rows, int device) {
  if (n == 0 || width == 0) return;
  DeviceGuard guard(device);
  cudaStream_t s = current_stream(device);
  DeviceErrorFlag* flag = device_error_flag(device);
  const int64_t total = n * width;
  if (idx64)
    scatter_atomic_kernel<<<grid_for(total, kBlock), kBlock, 0, s>>>(grad, static_cast<const int64_t*>(indices),
                                                                     total, width, table_grad, rows, flag);
  else
    scatter_atomic_kernel<<<grid_for(total, kBlock), kBlock, 0, s>>>(grad, static_cast<const int32_t*>(indices),
                                                                     total, width, table_grad, rows, flag);
  CUREC_KERNEL_CHECK();
}

void embedding_scatter_sorted(const float* grad, const void* indices, bool idx64, int64_t n, int64_t width,
                              float* table_grad, int64_t rows, int device) {
  if (n == 0 || width == 0) return;
  DeviceGuard guard(device);
  if (idx64)
    scatter_sorted_typed(grad, static_cast<const int64_t*>(indices), n, width, table_grad, rows, device);
  else
    scatter_sorted_typed(grad, static_cast<const int32_t*>(indices), n, width, table_grad, rows, device);
}

void widen_indices(const int32_t* in, int64_t* out, int64_t n, int device) {
  if (n == 0) return;
  DeviceGuard guard(device);
  widen_kernel<<<grid_for(n, kBlock), kBlock, 0, current_stream(device)>>>(in, out, n);
  CUREC_KERNEL_CHECK();
}

}  // namespace curec::cuda
