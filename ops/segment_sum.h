#pragma once
// The deterministic segmented sum (ops/segment_sum_math.h) as a tensor op with a CPU twin: the
// rows that share an id summed by one fixed tree, so the CPU reference and the CUDA kernels
// (ops/segment_sum.cu, whose SortedRuns the embedding backward and the lazy optimizers use)
// give the same bits. No autograd: it is a piece of backward passes, not a layer.
#include <cstdint>

#include "core/tensor.h"

namespace curec {

// ids i32/i64 [n] in [0, rows); values f32 [n, width], row i belonging to ids[i].
//   keys i64 [n]: the ids sorted ascending, stably (equal ids keep position order);
//   sums f32 [n, width]: row j holds the sum of the run of equal ids that starts at sorted slot
//        j (segment_sum::starts_run), every other row zeros.
// An id out of range is an error: thrown on the CPU, at the next synchronisation on CUDA.
struct SegmentSums {
  Tensor keys, sums;
};
SegmentSums segment_sum_rows(const Tensor& ids, const Tensor& values, int64_t rows);

namespace cuda {
void segment_sum_rows(const void* ids, bool idx64, int64_t n, int64_t rows, const float* values, int64_t width,
                      int64_t* keys, float* sums, int device);
}  // namespace cuda

}  // namespace curec
