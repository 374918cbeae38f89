#include "ops/blas.h"

#include <cblas.h>

#include <algorithm>

#include "core/parallel.h"

// OpenBLAS's thread count, where the BLAS is OpenBLAS (weak: another CBLAS has no such call).
extern "C" void openblas_set_num_threads(int) __attribute__((weak));

namespace curec {
namespace {

// Multiply-adds per block of C, about 0.1 ms of one core: enough to pay for the block's repack
// of the other operand, small enough to spread a product over the threads.
constexpr int64_t kBlockWork = int64_t{1} << 22;
constexpr int64_t kMinBlock = 256;  // rows or columns

void gemm_block(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda,
                const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans,
              static_cast<int>(m), static_cast<int>(n), static_cast<int>(k), 1.0f, a, static_cast<int>(lda), b,
              static_cast<int>(ldb), beta, c, static_cast<int>(ldc));
}

}  // namespace

void use_single_threaded_blas() {
  static const bool once = [] {
    if (openblas_set_num_threads) openblas_set_num_threads(1);
    return true;
  }();
  (void)once;
}

void cpu_gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda,
              const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  use_single_threaded_blas();
  // The BLAS's result for an element of C depends on the shape of the call that computes it
  // (its kernels and blockings differ with the sizes), so the blocks are fixed by the product's
  // shape alone: the same calls for any thread count, nested or not.
  const bool by_rows = m >= n;
  const int64_t len = by_rows ? m : n, other = by_rows ? n : m;
  const int64_t block = std::max(kMinBlock, kBlockWork / std::max<int64_t>(other * k, 1) + 1);
  const int64_t blocks = (len + block - 1) / block;
  parallel_for(0, blocks, 1, [&](int64_t first, int64_t last) {
    for (int64_t q = first; q < last; ++q) {
      const int64_t s0 = q * block, s = std::min(block, len - s0);
      if (by_rows)  // rows s0.. of op(A) and of C
        gemm_block(trans_a, trans_b, s, n, k, trans_a ? a + s0 : a + s0 * lda, lda, b, ldb, beta, c + s0 * ldc, ldc);
      else  // columns s0.. of op(B) and of C
        gemm_block(trans_a, trans_b, m, s, k, a, lda, trans_b ? b + s0 * ldb : b + s0, ldb, beta, c + s0, ldc);
    }
  });
}

}  // namespace curec
