#include "core/cuda_context.h"
#include "ops/bmm.h"

namespace curec::cuda {

void gemm_strided_batched(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const float* a,
                          int64_t stride_a, const float* b, int64_t stride_b, float* c, int64_t batch, int device) {
  DeviceGuard guard(device);
  // As ops/matmul.cu: column-major cuBLAS computes C^T = op(B)^T op(A)^T, operands swapped.
  const float alpha = 1.0f, beta = 0.0f;
  int lda = static_cast<int>(trans_a ? m : k), ldb = static_cast<int>(trans_b ? k : n);
  cublasOperation_t op_a = trans_a ? CUBLAS_OP_T : CUBLAS_OP_N, op_b = trans_b ? CUBLAS_OP_T : CUBLAS_OP_N;
  CUREC_CUBLAS_CHECK(cublasSgemmStridedBatched(cublas(device), op_b, op_a, static_cast<int>(n), static_cast<int>(m),
                                               static_cast<int>(k), &alpha, b, ldb, stride_b, a, lda, stride_a, &beta,
                                               c, static_cast<int>(n), m * n, static_cast<int>(batch)));
}

}  // namespace curec::cuda
