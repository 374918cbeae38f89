#pragma once
// Inverted dropout: in training each element is kept with probability 1 - p and scaled by
// 1 / (1 - p), so evaluation needs no rescaling. The keep decisions come from Philox at the
// generator's position, so the CPU and CUDA drop exactly the same elements.
#include <cstdint>

#include "core/generator.h"
#include "core/philox.h"
#include "core/tensor.h"

namespace curec {

// Identity (the same tensor) when !training or p == 0; p must lie in [0, 1).
Tensor dropout(const Tensor& x, float p, bool training, Generator& gen = default_generator());

// While a DropoutRows scope is alive on this thread, dropout keys each row's mask by the row's
// place in a whole batch: row r of an [n, ...] input is row `first + r` of a batch of `total`
// rows, and the generator advances by the whole batch's counters. The ranks of a data-parallel
// run, each holding one shard of the batch, then draw exactly the masks a single rank draws for
// the whole batch. The trainer opens one around every step; outside one, a tensor is one row.
class DropoutRows {
 public:
  DropoutRows(int64_t first, int64_t total);
  ~DropoutRows();
  DropoutRows(const DropoutRows&) = delete;
  DropoutRows& operator=(const DropoutRows&) = delete;

 private:
  int64_t saved_first_, saved_total_;
};

// The rows that inputs of `rows` rows are of their batch, for ops that key their own masks by
// batch row (attention): inside a DropoutRows scope its rows, else {0, rows} (the input is the
// whole batch). Fails when the scope's batch cannot hold `rows` rows from its first.
struct DropoutRowRange {
  int64_t first, total;
};
DropoutRowRange dropout_row_range(int64_t rows);

namespace dropout_math {
// Element i keeps when its uniform draw in [0, 1) is at least p: probability 1 - p.
CUREC_HD float apply(float x, float u, float p, float scale) { return u >= p ? x * scale : 0.0f; }
}  // namespace dropout_math

namespace cuda {
// x, y: [rows, width]. Element j of row r draws word j % 4 of Philox counter
// offset + (first_row + r) * ceil(width / 4) + j / 4. The backward is the same call on the
// output gradient (the mask is recomputed, not stored).
void dropout_apply(const float* x, float* y, int64_t rows, int64_t width, int64_t first_row, float p, float scale,
                   uint64_t seed, uint64_t offset, int device);
}  // namespace cuda

}  // namespace curec
