#pragma once
// The CPU BLAS as curec calls it: C = op(A) op(B) + beta C (row-major, float), split over
// curec's one thread pool (core/parallel.h) with the BLAS itself single-threaded.
//
// Why not the BLAS's own threads: OpenBLAS keeps a pool of its own, so a product inside a
// parallel_for would run 2 x 2 threads on 2 cores, and its idle threads spin-yield on the
// cores the pool needs next. Here a product is cut into blocks of C's rows (or columns, along
// the longer side) of about 4M multiply-adds, one BLAS call per block, the blocks shared by the
// pool's threads. The BLAS's rounding depends on the shape of each call (OpenBLAS gives other
// bits for a product cut in two, and for 2 threads than for 1), so the blocks are a function of
// the product's shape alone and the result is the same for any thread count. A product nested in
// a pool task runs its blocks on the calling thread.
// `bench_cpu_threads` measures this against OpenBLAS's threads.
#include <cstdint>

namespace curec {

// lda, ldb, ldc: the row lengths of A, B and C as stored.
void cpu_gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda,
              const float* b, int64_t ldb, float beta, float* c, int64_t ldc);

// Makes the BLAS single-threaded (once; what cpu_gemm does before its first call). For code that
// calls the BLAS or LAPACK directly.
void use_single_threaded_blas();

}  // namespace curec
