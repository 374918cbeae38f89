#pragma once
// Batch-wise densification: the chosen rows of a CSR matrix as a dense [rows, cols] f32
// tensor, for data too large to densify whole (AutoRec on big item sets).
#include <cstdint>

#include "core/tensor.h"
#include "data/csr.h"

namespace curec::data {

// rows: i64 [b] on m's device; each in [0, m.rows) (an error otherwise). Returns f32 [b, m.cols].
Tensor densify_rows(const CsrTensors& m, const Tensor& rows);

namespace cuda {
// One block per output row: zero the row, then scatter its nonzeros.
void densify_rows(const int64_t* row_ptr, const int32_t* col, const float* val, int64_t num_rows, int64_t cols,
                  const int64_t* rows, int64_t b, float* out, int device);
}  // namespace cuda

}  // namespace curec::data
