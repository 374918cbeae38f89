#pragma once
// Matrix product of two 2-D f32 tensors: op(a) [m, k] x op(b) [k, n] -> [m, n], where op
// transposes its operand when asked. Transposes are read in place by the BLAS, never copied.
// CPU goes through CBLAS, CUDA through cuBLAS; both accumulate in float.
#include "core/tensor.h"

namespace curec {

Tensor matmul(const Tensor& a, const Tensor& b, bool trans_a = false, bool trans_b = false);

namespace cuda {
// Row-major C [m, n] = op(A) op(B); A is stored [m, k] ([k, m] when trans_a), B [k, n] ([n, k]
// when trans_b).
void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const float* a, const float* b, float* c,
          int device);
}  // namespace cuda

}  // namespace curec
