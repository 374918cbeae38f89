#include <algorithm>

#include <cub/device/device_radix_sort.cuh>

#include "ops/segment_sum.cuh"
#include "ops/segment_sum.h"

namespace curec::cuda {
namespace {

constexpr int kBlock = 256;

// Sort keys: the id, or `rows` for a bad id (sorted last and never summed).
template <class I>
__global__ void make_keys_kernel(const I* __restrict__ ids, int64_t n, int64_t rows, int64_t* keys, int64_t* pos,
                                 DeviceErrorFlag* flag) {
  CUREC_GRID_LOOP(i, n) {
    const int64_t id = static_cast<int64_t>(ids[i]);
    const bool bad = id < 0 || id >= rows;
    if (bad) raise_error(flag, kIndexOutOfRange, id, rows);
    keys[i] = bad ? rows : id;
    pos[i] = i;
  }
}

__global__ void heads_kernel(const int64_t* __restrict__ keys, int64_t n, int64_t* __restrict__ heads) {
  CUREC_GRID_LOOP(s, n) heads[s] = segment_sum::run_head(keys, s);
}

// One thread per (sorted slot, column): neighbouring threads read neighbouring columns of a row.
__global__ void sum_level_kernel(const int64_t* __restrict__ keys, const int64_t* __restrict__ heads,
                                 const int64_t* __restrict__ pos, const float* __restrict__ grad, float* sums,
                                 int64_t n, int64_t width, int64_t rows, int64_t stride) {
  CUREC_GRID_LOOP(e, n * width) {
    const int64_t s = e / width, c = e - s * width;
    segment_sum::sum_level(keys, heads, pos, grad, sums, n, width, rows, stride, s, c);
  }
}

// The tensor op's layout: the sorted keys, and each run's sum at its first slot, zeros elsewhere.
__global__ void run_sums_kernel(const int64_t* __restrict__ keys, const float* __restrict__ sums, int64_t n,
                                int64_t width, int64_t rows, int64_t* __restrict__ keys_out, float* __restrict__ out) {
  CUREC_GRID_LOOP(e, n * width) {
    const int64_t j = e / width;
    out[e] = segment_sum::starts_run(keys, j, rows) ? sums[e] : 0.0f;
  }
  CUREC_GRID_LOOP(j, n) keys_out[j] = keys[j];
}

// Bits that hold every key in [0, rows] (so the radix sort skips the always-zero high bits).
int key_bits(int64_t rows) {
  int bits = 1;
  while (bits < 63 && (int64_t{1} << bits) <= rows) ++bits;
  return bits;
}

}  // namespace

SortedRuns::SortedRuns(const void* ids, bool idx64, int64_t n, int64_t rows, int device)
    : n_(n),
      rows_(rows),
      device_(device),
      keys_(n * sizeof(int64_t), device),
      pos_(n * sizeof(int64_t), device),
      heads_(n * sizeof(int64_t), device) {
  if (n == 0) return;
  DeviceGuard guard(device);
  cudaStream_t s = current_stream(device);
  Scratch keys_in(n * sizeof(int64_t), device), pos_in(n * sizeof(int64_t), device);
  if (idx64)
    make_keys_kernel<<<grid_for(n, kBlock), kBlock, 0, s>>>(static_cast<const int64_t*>(ids), n, rows,
                                                            keys_in.get<int64_t>(), pos_in.get<int64_t>(),
                                                            device_error_flag(device));
  else
    make_keys_kernel<<<grid_for(n, kBlock), kBlock, 0, s>>>(static_cast<const int32_t*>(ids), n, rows,
                                                            keys_in.get<int64_t>(), pos_in.get<int64_t>(),
                                                            device_error_flag(device));
  CUREC_KERNEL_CHECK();
  // cub's radix sort is stable: equal ids keep their position order.
  const int end_bit = key_bits(rows);
  size_t temp_bytes = 0;
  CUREC_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(nullptr, temp_bytes, keys_in.get<int64_t>(), keys_.get<int64_t>(),
                                                   pos_in.get<int64_t>(), pos_.get<int64_t>(), n, 0, end_bit, s));
  Scratch temp(temp_bytes, device);
  CUREC_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(temp.get(), temp_bytes, keys_in.get<int64_t>(),
                                                   keys_.get<int64_t>(), pos_in.get<int64_t>(), pos_.get<int64_t>(), n,
                                                   0, end_bit, s));
  heads_kernel<<<grid_for(n, kBlock), kBlock, 0, s>>>(keys_.get<int64_t>(), n, heads_.get<int64_t>());
  CUREC_KERNEL_CHECK();
}

void SortedRuns::sum(const float* grad, int64_t width) {
  sums_ = std::make_unique<Scratch>(static_cast<size_t>(n_ * width) * sizeof(float), device_);
  if (n_ == 0 || width == 0) return;
  DeviceGuard guard(device_);
  cudaStream_t s = current_stream(device_);
  const int64_t total = n_ * width;
  int64_t stride = 1;
  for (int level = 0; level < segment_sum::levels(n_); ++level, stride *= segment_sum::kPiece) {
    sum_level_kernel<<<grid_for(total, kBlock), kBlock, 0, s>>>(keys(), heads_.get<int64_t>(), pos(), grad,
                                                                sums_->get<float>(), n_, width, rows_, stride);
    CUREC_KERNEL_CHECK();
  }
}

void segment_sum_rows(const void* ids, bool idx64, int64_t n, int64_t rows, const float* values, int64_t width,
                      int64_t* keys, float* sums, int device) {
  SortedRuns runs(ids, idx64, n, rows, device);
  runs.sum(values, width);
  DeviceGuard guard(device);
  run_sums_kernel<<<grid_for(std::max<int64_t>(n * width, n), kBlock), kBlock, 0, current_stream(device)>>>(
      runs.keys(), runs.sums(), n, width, rows, keys, sums);
  CUREC_KERNEL_CHECK();
}

}  // namespace curec::cuda
