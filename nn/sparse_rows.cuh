#pragma once
// CUDA twin of nn/sparse_rows.h: a row-sparse gradient's (id, position) pairs sorted by id with
// cub's stable radix sort, and the per-run sum the fused lazy optimizer kernels use.
#include <cstdint>

#include "core/cuda_context.h"
#include "core/cuda_scratch.h"

namespace curec::nn::cuda {

// Sorted ids (`keys`) and the positions they came from (`pos`), in scratch memory on the
// current stream. An id outside [0, table_rows) raises the device error flag (reported at the
// next synchronisation) and is sorted last under key table_rows, so no kernel touches it.
class SortedRows {
 public:
  SortedRows(const int64_t* indices, int64_t n, int64_t table_rows, int device);
  const int64_t* keys() const { return keys_.get<int64_t>(); }
  const int64_t* pos() const { return pos_.get<int64_t>(); }

 private:
  curec::cuda::Scratch keys_in_, pos_in_, keys_, pos_;
};

// If sorted slot j starts a run of a valid id, writes the run's gradient sum for column c (in
// position order, as the CPU sums it) and returns true; other slots return false.
__device__ inline bool run_sum(const int64_t* keys, const int64_t* pos, int64_t n, int64_t j, const float* grad,
                               int64_t width, int64_t c, int64_t table_rows, float* out) {
  int64_t id = keys[j];
  if (id >= table_rows || (j > 0 && keys[j - 1] == id)) return false;
  float s = grad[pos[j] * width + c];
  for (int64_t t = j + 1; t < n && keys[t] == id; ++t) s += grad[pos[t] * width + c];
  *out = s;
  return true;
}

}  // namespace curec::nn::cuda
