#pragma once
// CUDA twin of nn/sparse_rows.h: a row-sparse gradient's ids sorted with their positions and
// each run of equal ids summed, by the piece the deterministic embedding backward shares
// (ops/segment_sum.cuh); the fused lazy optimizer kernels read the summed rows.
#include <cstdint>

#include "ops/segment_sum.cuh"

namespace curec::nn::cuda {

// An id outside [0, table_rows) raises the device error flag (reported at the next
// synchronisation) and is sorted last under key table_rows, so no kernel touches it.
class SortedRows : public curec::cuda::SortedRuns {
 public:
  // indices i64 [n], grad_rows f32 [n, width], both on `device`.
  SortedRows(const int64_t* indices, int64_t n, int64_t table_rows, const float* grad_rows, int64_t width, int device);
};

// If sorted slot j starts a run of a valid id, sets *out to column c of the run's summed
// gradient (in position order, as the CPU sums it, for runs of up to 256 ids; see
// ops/segment_sum_math.h) and returns true; other slots return false.
__device__ inline bool run_sum(const int64_t* keys, const float* sums, int64_t j, int64_t width, int64_t c,
                               int64_t table_rows, float* out) {
  if (!segment_sum::starts_run(keys, j, table_rows)) return false;
  *out = sums[j * width + c];
  return true;
}

}  // namespace curec::nn::cuda
