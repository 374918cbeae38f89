#pragma once
// The sort-and-sum-runs piece both the deterministic embedding backward (ops/embedding.cu) and
// the fused lazy optimizers (nn/sparse_rows.cuh) use: ids sorted stably with their positions by
// cub's radix sort, then each run of equal ids summed by the fixed tree of
// ops/segment_sum_math.h (deterministic, no atomics; position order for runs of up to 256).
#include <cstdint>
#include <memory>

#include "core/cuda_context.h"
#include "core/cuda_scratch.h"
#include "ops/segment_sum_math.h"

namespace curec::cuda {

class SortedRuns {
 public:
  // ids: [n] i64 (idx64) or i32, on `device`. An id outside [0, rows) raises the device error
  // flag (reported at the next synchronisation) and is sorted last under key `rows`, where no
  // sum reads it. All memory is scratch from the caching allocator, on the current stream.
  SortedRuns(const void* ids, bool idx64, int64_t n, int64_t rows, int device);
  SortedRuns(const SortedRuns&) = delete;
  SortedRuns& operator=(const SortedRuns&) = delete;

  // Sums the gradient rows grad [n, width] (indexed by original position) run by run: after
  // it, row j of sums() ([n, width]) holds the sum of the run that starts at sorted slot j
  // (segment_sum::starts_run); the other rows are scratch.
  void sum(const float* grad, int64_t width);

  int64_t size() const { return n_; }
  int64_t rows() const { return rows_; }
  const int64_t* keys() const { return keys_.get<int64_t>(); }  // sorted ids, bad ones as `rows`
  const int64_t* pos() const { return pos_.get<int64_t>(); }    // their original positions
  const float* sums() const { return sums_ ? sums_->get<float>() : nullptr; }

 private:
  int64_t n_, rows_;
  int device_;
  Scratch keys_, pos_, heads_;
  std::unique_ptr<Scratch> sums_;
};

}  // namespace curec::cuda
