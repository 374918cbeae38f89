#pragma once
// Batched matrix product: C[i] = op(A[i]) op(B[i]) for each i of the batch, with a [B, M, K]
// ([B, K, M] when trans_a) and b [B, K, N] ([B, N, K] when trans_b) giving [B, M, N]. A batch of
// 1 on either side is broadcast over the other's batch (and its gradient summed over the batch).
// Transposes are read in place. CPU: the BLAS once per batch entry, the entries shared by the
// threads when they are small (the same bits either way); CUDA: one cublasSgemmStridedBatched.
#include "core/tensor.h"

namespace curec {

Tensor bmm(const Tensor& a, const Tensor& b, bool trans_a = false, bool trans_b = false);

namespace cuda {
// Row-major C[i] [m, n] = op(A[i]) op(B[i]) for i < batch, A[i] at a + i * stride_a (a stride
// of 0 broadcasts one matrix), likewise B; C[i] at c + i * m * n.
void gemm_strided_batched(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const float* a,
                          int64_t stride_a, const float* b, int64_t stride_b, float* c, int64_t batch, int device);
}  // namespace cuda

}  // namespace curec
