#include "core/cuda_context.h"
#include "ops/matmul.h"

namespace curec::cuda {

void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const float* a, const float* b, float* c,
          int device) {
  DeviceGuard guard(device);
  // cuBLAS is column-major, where row-major C [m, n] reads as C^T [n, m]. So compute
  // C^T = op(B)^T op(A)^T: swap the operands and keep each one's transpose flag.
  const float alpha = 1.0f, beta = 0.0f;
  int lda = static_cast<int>(trans_a ? m : k), ldb = static_cast<int>(trans_b ? k : n);
  cublasOperation_t op_a = trans_a ? CUBLAS_OP_T : CUBLAS_OP_N, op_b = trans_b ? CUBLAS_OP_T : CUBLAS_OP_N;
  CUREC_CUBLAS_CHECK(cublasSgemm(cublas(device), op_b, op_a, static_cast<int>(n), static_cast<int>(m),
                                 static_cast<int>(k), &alpha, b, ldb, a, lda, &beta, c, static_cast<int>(n)));
}

}  // namespace curec::cuda
