#include <cub/device/device_radix_sort.cuh>

#include "nn/sparse_rows.cuh"

namespace curec::nn::cuda {
namespace {

__global__ void make_keys(const int64_t* indices, int64_t n, int64_t rows, int64_t* keys, int64_t* pos,
                          curec::cuda::DeviceErrorFlag* flag) {
  CUREC_GRID_LOOP(i, n) {
    int64_t id = indices[i];
    if (id < 0 || id >= rows) {
      curec::cuda::raise_error(flag, curec::cuda::kIndexOutOfRange, id, rows);
      id = rows;
    }
    keys[i] = id;
    pos[i] = i;
  }
}

// Bits holding every key in [0, rows], so the radix sort skips the high zero bits.
int key_bits(int64_t rows) {
  int bits = 1;
  while (bits < 63 && (int64_t{1} << bits) <= rows) ++bits;
  return bits;
}

}  // namespace

SortedRows::SortedRows(const int64_t* indices, int64_t n, int64_t table_rows, int device)
    : keys_in_(n * sizeof(int64_t), device),
      pos_in_(n * sizeof(int64_t), device),
      keys_(n * sizeof(int64_t), device),
      pos_(n * sizeof(int64_t), device) {
  if (n == 0) return;
  curec::cuda::DeviceGuard guard(device);
  cudaStream_t s = curec::cuda::current_stream(device);
  make_keys<<<curec::cuda::grid_for(n), 256, 0, s>>>(indices, n, table_rows, keys_in_.get<int64_t>(),
                                                     pos_in_.get<int64_t>(), curec::cuda::device_error_flag(device));
  CUREC_KERNEL_CHECK();
  int bits = key_bits(table_rows);
  size_t temp_bytes = 0;
  CUREC_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(nullptr, temp_bytes, keys_in_.get<int64_t>(), keys_.get<int64_t>(),
                                                   pos_in_.get<int64_t>(), pos_.get<int64_t>(), n, 0, bits, s));
  curec::cuda::Scratch temp(temp_bytes, device);
  CUREC_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(temp.get(), temp_bytes, keys_in_.get<int64_t>(), keys_.get<int64_t>(),
                                                   pos_in_.get<int64_t>(), pos_.get<int64_t>(), n, 0, bits, s));
}

}  // namespace curec::nn::cuda
