#pragma once
// Embedding lookup: gathers rows of a table by integer ids. Its backward scatters the output
// gradient back into the rows it read, densely or as row-sparse (ids + rows) gradients that
// optimizers apply only to the touched rows.
#include <cstdint>

#include "core/tensor.h"

namespace curec {

struct EmbeddingOptions {
  bool sparse_grad = false;    // row-sparse gradient (indices + rows) instead of a dense [rows, dim] one
  bool deterministic = false;  // dense backward without float atomics (sort indices, then sum each run in order)
};

// table f32 [rows, dim]; indices i32 or i64 of any shape; returns f32 indices.shape + [dim].
// An id outside [0, rows) is an error: thrown at once on the CPU, at the next synchronisation
// on CUDA (the kernel writes zeros instead of reading out of bounds).
Tensor embedding(const Tensor& table, const Tensor& indices, const EmbeddingOptions& options = {});

// The gather and scatter that embedding and index_select share (no autograd).
// Rows of `table` ([rows, ...], any trailing shape) picked by `indices`:
// shape indices.shape + table.shape[1:].
Tensor gather_rows(const Tensor& table, const Tensor& indices, const char* op = "gather_rows");
// Zeros of `table_shape` with each row of `grad` ([n, ...] as gather_rows made it) added to
// the row its index names; `deterministic` sums each row in index-position order.
Tensor scatter_add_rows(const Tensor& grad, const Tensor& indices, const Shape& table_shape, bool deterministic);

namespace cuda {
// out[i, :] = table[indices[i], :] for i < n; ids out of [0, rows) raise the device error flag
// and give zero rows.
void embedding_gather(const float* table, int64_t rows, int64_t dim, const void* indices, bool idx64, int64_t n,
                      float* out, int device);
// grad_table[indices[i], :] += grad[i, :] with float atomics; grad_table must hold zeros (or a
// gradient to add to).
void embedding_scatter_atomic(const float* grad, const void* indices, bool idx64, int64_t n, int64_t dim,
                              float* grad_table, int64_t rows, int device);
// Same sums without atomics: sorts (id, position) pairs and lets one warp sum each run of equal
// ids in position order, so the result is bitwise reproducible (and equals the CPU loop).
// grad_table must hold zeros; rows that no id names stay untouched.
void embedding_scatter_sorted(const float* grad, const void* indices, bool idx64, int64_t n, int64_t dim,
                              float* grad_table, int64_t rows, int device);
// i64 copy of i32 ids (for row-sparse gradients).
void widen_indices(const int32_t* in, int64_t* out, int64_t n, int device);
}  // namespace cuda

}  // namespace curec
