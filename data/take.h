#pragma once
// Row gather for data loading: picks rows (dim 0) of a column of any dtype by an index tensor.
// Not differentiable (ops/embedding's gather_rows is the op with a backward); the batch loader
// uses it to slice device-resident columns by the sampler's index batches without a host trip.
#include <cstdint>

#include "core/tensor.h"

namespace curec::data {

// column [rows, ...] of f32/i32/i64/u8; indices i32 or i64 of any shape, on the same device.
// Returns indices.shape + column.shape[1:]. An index outside [0, rows) is an error: thrown at
// once on the CPU; on CUDA the kernel writes a zero row and raises the device error flag,
// reported at the next synchronisation.
Tensor take_rows(const Tensor& column, const Tensor& indices);

namespace cuda {
void take_rows(const void* src, int64_t rows, int64_t row_bytes, const void* indices, bool idx64, int64_t n,
               void* dst, int device);
}  // namespace cuda

}  // namespace curec::data
