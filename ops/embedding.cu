#include "core/cuda_context.h"
#include "ops/embedding.h"
#include "ops/segment_sum.cuh"

namespace curec::cuda {
namespace {

constexpr int kBlock = 256;

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

// One thread per (sorted slot, column): the slots that start a run write the run's sum (the
// shared segmented reduction of ops/segment_sum.cuh) into its table row, once.
__global__ void write_runs_kernel(const int64_t* __restrict__ keys, const float* __restrict__ sums, int64_t n,
                                  int64_t width, float* __restrict__ table_grad, int64_t rows) {
  CUREC_GRID_LOOP(e, n * width) {
    const int64_t j = e / width, c = e - j * width;
    if (segment_sum::starts_run(keys, j, rows)) table_grad[keys[j] * width + c] = sums[j * width + c];
  }
}

__global__ void widen_kernel(const int32_t* __restrict__ in, int64_t* __restrict__ out, int64_t n) {
  CUREC_GRID_LOOP(i, n) out[i] = in[i];
}

bool aligned16(const void* p) { return reinterpret_cast<uintptr_t>(p) % 16 == 0; }

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
  SortedRuns runs(indices, idx64, n, rows, device);
  runs.sum(grad, width);
  write_runs_kernel<<<grid_for(n * width, kBlock), kBlock, 0, current_stream(device)>>>(runs.keys(), runs.sums(), n,
                                                                                       width, table_grad, rows);
  CUREC_KERNEL_CHECK();
}

void widen_indices(const int32_t* in, int64_t* out, int64_t n, int device) {
  if (n == 0) return;
  DeviceGuard guard(device);
  widen_kernel<<<grid_for(n, kBlock), kBlock, 0, current_stream(device)>>>(in, out, n);
  CUREC_KERNEL_CHECK();
}

}  // namespace curec::cuda
