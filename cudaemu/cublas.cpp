// cuBLAS stand-in for the emulated device: the routines curec calls, computed on the host as a
// plain reference (float, accumulated in k order) under cuBLAS's documented argument rules.
// Every operand is checked against the emulator's registry, so a host pointer or an overrun
// faults as it would on a GPU instead of quietly working on host memory.
#include <cblas.h>
#include <cublas_v2.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "handles.h"
#include "state.h"

struct cublasContext {
  cudaStream_t stream = nullptr;  // streams run synchronously here; kept for cublasGetStream
  cublasPointerMode_t pointer_mode = CUBLAS_POINTER_MODE_HOST;
  cublasMath_t math_mode = CUBLAS_DEFAULT_MATH;  // accepted and reported; float math regardless
};

namespace {

using Status = cublasStatus_t;
constexpr Status kOk = CUBLAS_STATUS_SUCCESS;

curec_emu::Handles<cublasContext>& handles = *new curec_emu::Handles<cublasContext>;  // outlives static destructors

bool live(const cublasContext* h) { return handles.live(h); }

bool valid_op(cublasOperation_t op) { return op == CUBLAS_OP_N || op == CUBLAS_OP_T || op == CUBLAS_OP_C; }

// Bytes from a column-major matrix's first element to one past its last one.
size_t matrix_bytes(int64_t rows, int64_t cols, int64_t ld) {
  if (rows <= 0 || cols <= 0) return 0;
  return static_cast<size_t>((cols - 1) * ld + rows) * sizeof(float);
}

// BLAS addresses a strided vector upward from its pointer whatever the sign of inc ...
size_t vector_bytes(int64_t n, int64_t inc) {
  if (n <= 0) return 0;
  return static_cast<size_t>((n - 1) * (inc < 0 ? -inc : inc) + 1) * sizeof(float);
}

// ... and a negative inc walks it from the far end.
int64_t at(int64_t i, int64_t n, int64_t inc) { return inc >= 0 ? i * inc : (n - 1 - i) * -inc; }

// Whether [p, p + bytes) is device memory; faults naming the operand (and batch) when it is not.
bool on_device(const char* fn, const char* operand, int batch, const void* p, size_t bytes) {
  if (bytes == 0 || curec_emu::is_device_range(p, bytes)) return true;
  std::string name = operand;
  if (batch >= 0) name += " of batch " + std::to_string(batch);
  curec_emu::fault(cudaErrorIllegalAddress, std::string(fn) + ": " + curec_emu::describe_bad_range(p, bytes, name));
  return false;
}

// A host-mode scalar that points into device memory would crash the host on a GPU machine.
bool device_pointer_in_host_mode(const char* fn, const char* name, const void* p) {
  auto a = curec_emu::find_allocation(p);
  if (!a || a->kind != curec_emu::MemoryKind::device || static_cast<const char*>(p) >= a->base + a->bytes) return false;
  curec_emu::fault(cudaErrorInvalidValue, std::string(fn) + ": " + name +
                                              " points into device memory but the handle's pointer mode is "
                                              "CUBLAS_POINTER_MODE_HOST (the host would dereference it)");
  return true;
}

// Reads a scalar where the handle's pointer mode says it lives.
Status read_scalar(const cublasContext* h, const char* fn, const char* name, const float* p, float& out) {
  if (h->pointer_mode == CUBLAS_POINTER_MODE_DEVICE) {
    if (!on_device(fn, name, -1, p, sizeof(float))) return CUBLAS_STATUS_EXECUTION_FAILED;
  } else if (device_pointer_in_host_mode(fn, name, p)) {
    return CUBLAS_STATUS_INVALID_VALUE;
  }
  out = *p;
  return kOk;
}

Status write_scalar(const cublasContext* h, const char* fn, const char* name, float* p, float value) {
  if (h->pointer_mode == CUBLAS_POINTER_MODE_DEVICE) {
    if (!on_device(fn, name, -1, p, sizeof(float))) return CUBLAS_STATUS_EXECUTION_FAILED;
  } else if (device_pointer_in_host_mode(fn, name, p)) {
    return CUBLAS_STATUS_INVALID_VALUE;
  }
  *p = value;
  return kOk;
}

// One validated gemm of the family: its shape, its scalars, and so what it touches.
struct Gemm {
  cublasOperation_t ta, tb;
  int64_t m, n, k, lda, ldb, ldc;
  float alpha = 0, beta = 0;
  // BLAS: A and B are not referenced when alpha == 0 (or k == 0), nor C when beta == 0.
  bool reads_ab() const { return k > 0 && alpha != 0.0f; }
  size_t a_bytes() const { return ta == CUBLAS_OP_N ? matrix_bytes(m, k, lda) : matrix_bytes(k, m, lda); }
  size_t b_bytes() const { return tb == CUBLAS_OP_N ? matrix_bytes(k, n, ldb) : matrix_bytes(n, k, ldb); }
  size_t c_bytes() const { return matrix_bytes(m, n, ldc); }
};

// cuBLAS's INVALID_VALUE rules for the gemm family, then its scalars. `idle` is set for a call
// that returns before touching memory (m == 0, n == 0 or an empty batch).
Status prepare_gemm(const char* fn, cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k,
                    const float* alpha, int lda, int ldb, const float* beta, int ldc, int batch, Gemm& g, bool& idle) {
  if (!live(h)) return CUBLAS_STATUS_NOT_INITIALIZED;
  if (!valid_op(ta) || !valid_op(tb) || m < 0 || n < 0 || k < 0 || batch < 0) return CUBLAS_STATUS_INVALID_VALUE;
  if (lda < std::max(1, ta == CUBLAS_OP_N ? m : k) || ldb < std::max(1, tb == CUBLAS_OP_N ? k : n) ||
      ldc < std::max(1, m))
    return CUBLAS_STATUS_INVALID_VALUE;
  if (!alpha || !beta) return CUBLAS_STATUS_INVALID_VALUE;
  g = Gemm{ta, tb, m, n, k, lda, ldb, ldc};
  idle = m == 0 || n == 0 || batch == 0;
  if (idle) return kOk;
  if (Status st = read_scalar(h, fn, "alpha", alpha, g.alpha); st != kOk) return st;
  return read_scalar(h, fn, "beta", beta, g.beta);
}

bool gemm_operands_ok(const char* fn, const Gemm& g, const float* A, const float* B, const float* C, int batch) {
  if (g.reads_ab() && (!on_device(fn, "A", batch, A, g.a_bytes()) || !on_device(fn, "B", batch, B, g.b_bytes())))
    return false;
  return on_device(fn, "C", batch, C, g.c_bytes());
}

// C = alpha op(A) op(B) + beta C, the products by the CPU BLAS (column-major, the same
// transpose flags and leading dimensions: the call's own arguments, not a re-derivation).
void gemm_compute(const Gemm& g, const float* A, const float* B, float* C, std::vector<float>&, std::vector<float>&) {
  // beta == 0 must not read C: whatever it holds (NaN included) is overwritten.
  for (int64_t j = 0; j < g.n; ++j) {
    float* c = C + j * g.ldc;
    for (int64_t i = 0; i < g.m; ++i) c[i] = g.beta == 0.0f ? 0.0f : g.beta * c[i];
  }
  if (!g.reads_ab()) return;
  auto op = [](cublasOperation_t t) { return t == CUBLAS_OP_N ? CblasNoTrans : CblasTrans; };
  cblas_sgemm(CblasColMajor, op(g.ta), op(g.tb), static_cast<int>(g.m), static_cast<int>(g.n), static_cast<int>(g.k),
              g.alpha, A, static_cast<int>(g.lda), B, static_cast<int>(g.ldb), 1.0f, C, static_cast<int>(g.ldc));
}

}  // namespace

extern "C" {

cublasStatus_t cublasCreate_v2(cublasHandle_t* handle) {
  if (!handle) return CUBLAS_STATUS_INVALID_VALUE;
  *handle = handles.create();
  return kOk;
}

cublasStatus_t cublasDestroy_v2(cublasHandle_t handle) {
  return handles.destroy(handle) ? kOk : CUBLAS_STATUS_NOT_INITIALIZED;
}

cublasStatus_t cublasSetStream_v2(cublasHandle_t handle, cudaStream_t stream) {
  if (!live(handle)) return CUBLAS_STATUS_NOT_INITIALIZED;
  handle->stream = stream;
  return kOk;
}

cublasStatus_t cublasGetStream_v2(cublasHandle_t handle, cudaStream_t* stream) {
  if (!live(handle)) return CUBLAS_STATUS_NOT_INITIALIZED;
  if (!stream) return CUBLAS_STATUS_INVALID_VALUE;
  *stream = handle->stream;
  return kOk;
}

cublasStatus_t cublasSetPointerMode_v2(cublasHandle_t handle, cublasPointerMode_t mode) {
  if (!live(handle)) return CUBLAS_STATUS_NOT_INITIALIZED;
  if (mode != CUBLAS_POINTER_MODE_HOST && mode != CUBLAS_POINTER_MODE_DEVICE) return CUBLAS_STATUS_INVALID_VALUE;
  handle->pointer_mode = mode;
  return kOk;
}

cublasStatus_t cublasGetPointerMode_v2(cublasHandle_t handle, cublasPointerMode_t* mode) {
  if (!live(handle)) return CUBLAS_STATUS_NOT_INITIALIZED;
  if (!mode) return CUBLAS_STATUS_INVALID_VALUE;
  *mode = handle->pointer_mode;
  return kOk;
}

cublasStatus_t cublasSetMathMode(cublasHandle_t handle, cublasMath_t mode) {
  if (!live(handle)) return CUBLAS_STATUS_NOT_INITIALIZED;
  handle->math_mode = mode;
  return kOk;
}

cublasStatus_t cublasGetMathMode(cublasHandle_t handle, cublasMath_t* mode) {
  if (!live(handle)) return CUBLAS_STATUS_NOT_INITIALIZED;
  if (!mode) return CUBLAS_STATUS_INVALID_VALUE;
  *mode = handle->math_mode;
  return kOk;
}

const char* cublasGetStatusName(cublasStatus_t status) {
  switch (status) {
    case CUBLAS_STATUS_SUCCESS: return "CUBLAS_STATUS_SUCCESS";
    case CUBLAS_STATUS_NOT_INITIALIZED: return "CUBLAS_STATUS_NOT_INITIALIZED";
    case CUBLAS_STATUS_ALLOC_FAILED: return "CUBLAS_STATUS_ALLOC_FAILED";
    case CUBLAS_STATUS_INVALID_VALUE: return "CUBLAS_STATUS_INVALID_VALUE";
    case CUBLAS_STATUS_ARCH_MISMATCH: return "CUBLAS_STATUS_ARCH_MISMATCH";
    case CUBLAS_STATUS_MAPPING_ERROR: return "CUBLAS_STATUS_MAPPING_ERROR";
    case CUBLAS_STATUS_EXECUTION_FAILED: return "CUBLAS_STATUS_EXECUTION_FAILED";
    case CUBLAS_STATUS_INTERNAL_ERROR: return "CUBLAS_STATUS_INTERNAL_ERROR";
    case CUBLAS_STATUS_NOT_SUPPORTED: return "CUBLAS_STATUS_NOT_SUPPORTED";
    case CUBLAS_STATUS_LICENSE_ERROR: return "CUBLAS_STATUS_LICENSE_ERROR";
  }
  return "CUBLAS_STATUS_UNKNOWN";
}

const char* cublasGetStatusString(cublasStatus_t status) {
  switch (status) {
    case CUBLAS_STATUS_SUCCESS: return "success";
    case CUBLAS_STATUS_NOT_INITIALIZED: return "the library was not initialized (null or destroyed handle)";
    case CUBLAS_STATUS_ALLOC_FAILED: return "the resource allocation failed";
    case CUBLAS_STATUS_INVALID_VALUE: return "an invalid numeric value was used as an argument";
    case CUBLAS_STATUS_ARCH_MISMATCH: return "an absent device architectural feature is required";
    case CUBLAS_STATUS_MAPPING_ERROR: return "an access to GPU memory space failed";
    case CUBLAS_STATUS_EXECUTION_FAILED:
      return "the GPU program failed to execute (curec emulator: an operand is not device memory; see the fault)";
    case CUBLAS_STATUS_INTERNAL_ERROR: return "an internal operation failed";
    case CUBLAS_STATUS_NOT_SUPPORTED: return "the functionality requested is not supported";
    case CUBLAS_STATUS_LICENSE_ERROR: return "the functionality requested requires some license";
  }
  return "unknown cuBLAS status";
}

cublasStatus_t cublasSgemm_v2(cublasHandle_t handle, cublasOperation_t transa, cublasOperation_t transb, int m, int n,
                              int k, const float* alpha, const float* A, int lda, const float* B, int ldb,
                              const float* beta, float* C, int ldc) {
  const char* fn = "cublasSgemm";
  Gemm g{};
  bool idle = false;
  if (Status st = prepare_gemm(fn, handle, transa, transb, m, n, k, alpha, lda, ldb, beta, ldc, 1, g, idle);
      st != kOk || idle)
    return st;
  if (!gemm_operands_ok(fn, g, A, B, C, -1)) return CUBLAS_STATUS_EXECUTION_FAILED;
  std::vector<float> pa, pb;
  gemm_compute(g, A, B, C, pa, pb);
  return kOk;
}

cublasStatus_t cublasSgemmStridedBatched(cublasHandle_t handle, cublasOperation_t transa, cublasOperation_t transb,
                                         int m, int n, int k, const float* alpha, const float* A, int lda,
                                         long long int strideA, const float* B, int ldb, long long int strideB,
                                         const float* beta, float* C, int ldc, long long int strideC, int batchCount) {
  const char* fn = "cublasSgemmStridedBatched";
  Gemm g{};
  bool idle = false;
  if (Status st = prepare_gemm(fn, handle, transa, transb, m, n, k, alpha, lda, ldb, beta, ldc, batchCount, g, idle);
      st != kOk || idle)
    return st;
  // A and B may be null when they are not read: offset them only when they are.
  const bool ab = g.reads_ab();
  auto a_of = [&](int i) { return ab ? A + i * strideA : nullptr; };
  auto b_of = [&](int i) { return ab ? B + i * strideB : nullptr; };
  // Every batch is checked before any is written, so a bad call leaves C as it was.
  for (int i = 0; i < batchCount; ++i)
    if (!gemm_operands_ok(fn, g, a_of(i), b_of(i), C + i * strideC, i)) return CUBLAS_STATUS_EXECUTION_FAILED;
  std::vector<float> pa, pb;
  for (int i = 0; i < batchCount; ++i) gemm_compute(g, a_of(i), b_of(i), C + i * strideC, pa, pb);
  return kOk;
}

cublasStatus_t cublasSgemmBatched(cublasHandle_t handle, cublasOperation_t transa, cublasOperation_t transb, int m,
                                  int n, int k, const float* alpha, const float* const Aarray[], int lda,
                                  const float* const Barray[], int ldb, const float* beta, float* const Carray[],
                                  int ldc, int batchCount) {
  const char* fn = "cublasSgemmBatched";
  Gemm g{};
  bool idle = false;
  if (Status st = prepare_gemm(fn, handle, transa, transb, m, n, k, alpha, lda, ldb, beta, ldc, batchCount, g, idle);
      st != kOk || idle)
    return st;
  // The pointer arrays themselves are read by the device, so they must be device memory too.
  const size_t array_bytes = static_cast<size_t>(batchCount) * sizeof(float*);
  if ((g.reads_ab() &&
       (!on_device(fn, "Aarray", -1, Aarray, array_bytes) || !on_device(fn, "Barray", -1, Barray, array_bytes))) ||
      !on_device(fn, "Carray", -1, Carray, array_bytes))
    return CUBLAS_STATUS_EXECUTION_FAILED;
  const bool ab = g.reads_ab();
  for (int i = 0; i < batchCount; ++i)
    if (!gemm_operands_ok(fn, g, ab ? Aarray[i] : nullptr, ab ? Barray[i] : nullptr, Carray[i], i))
      return CUBLAS_STATUS_EXECUTION_FAILED;
  std::vector<float> pa, pb;
  for (int i = 0; i < batchCount; ++i)
    gemm_compute(g, ab ? Aarray[i] : nullptr, ab ? Barray[i] : nullptr, Carray[i], pa, pb);
  return kOk;
}

cublasStatus_t cublasSgemv_v2(cublasHandle_t handle, cublasOperation_t trans, int m, int n, const float* alpha,
                              const float* A, int lda, const float* x, int incx, const float* beta, float* y,
                              int incy) {
  const char* fn = "cublasSgemv";
  if (!live(handle)) return CUBLAS_STATUS_NOT_INITIALIZED;
  if (!valid_op(trans) || m < 0 || n < 0 || lda < std::max(1, m) || incx == 0 || incy == 0 || !alpha || !beta)
    return CUBLAS_STATUS_INVALID_VALUE;
  // BLAS returns before touching y when op(A) is empty (no beta scaling, unlike gemm's k == 0).
  if (m == 0 || n == 0) return kOk;
  float a = 0, b = 0;
  if (Status st = read_scalar(handle, fn, "alpha", alpha, a); st != kOk) return st;
  if (Status st = read_scalar(handle, fn, "beta", beta, b); st != kOk) return st;
  if (a == 0.0f && b == 1.0f) return kOk;
  const bool notrans = trans == CUBLAS_OP_N;
  const int64_t xlen = notrans ? n : m, ylen = notrans ? m : n;
  if (a != 0.0f &&
      (!on_device(fn, "A", -1, A, matrix_bytes(m, n, lda)) || !on_device(fn, "x", -1, x, vector_bytes(xlen, incx))))
    return CUBLAS_STATUS_EXECUTION_FAILED;
  if (!on_device(fn, "y", -1, y, vector_bytes(ylen, incy))) return CUBLAS_STATUS_EXECUTION_FAILED;
  std::vector<float> acc(static_cast<size_t>(ylen), 0.0f);
  if (a != 0.0f) {
    if (notrans) {
      // Column by column keeps A's reads contiguous; each acc[i] still sums in j order.
      for (int64_t j = 0; j < n; ++j) {
        const float xj = x[at(j, n, incx)];
        const float* col = A + j * static_cast<int64_t>(lda);
        for (int64_t i = 0; i < m; ++i) acc[i] += col[i] * xj;
      }
    } else {
      for (int64_t j = 0; j < n; ++j) {
        const float* col = A + j * static_cast<int64_t>(lda);
        for (int64_t i = 0; i < m; ++i) acc[j] += col[i] * x[at(i, m, incx)];
      }
    }
  }
  for (int64_t i = 0; i < ylen; ++i) {
    float& yi = y[at(i, ylen, incy)];
    yi = a * acc[i] + (b == 0.0f ? 0.0f : b * yi);
  }
  return kOk;
}

cublasStatus_t cublasSaxpy_v2(cublasHandle_t handle, int n, const float* alpha, const float* x, int incx, float* y,
                              int incy) {
  const char* fn = "cublasSaxpy";
  if (!live(handle)) return CUBLAS_STATUS_NOT_INITIALIZED;
  if (!alpha) return CUBLAS_STATUS_INVALID_VALUE;
  if (n <= 0) return kOk;
  float a = 0;
  if (Status st = read_scalar(handle, fn, "alpha", alpha, a); st != kOk) return st;
  if (a == 0.0f) return kOk;  // BLAS leaves y untouched
  if (!on_device(fn, "x", -1, x, vector_bytes(n, incx)) || !on_device(fn, "y", -1, y, vector_bytes(n, incy)))
    return CUBLAS_STATUS_EXECUTION_FAILED;
  for (int64_t i = 0; i < n; ++i) y[at(i, n, incy)] += a * x[at(i, n, incx)];
  return kOk;
}

cublasStatus_t cublasSdot_v2(cublasHandle_t handle, int n, const float* x, int incx, const float* y, int incy,
                             float* result) {
  const char* fn = "cublasSdot";
  if (!live(handle)) return CUBLAS_STATUS_NOT_INITIALIZED;
  if (!result) return CUBLAS_STATUS_INVALID_VALUE;
  if (n > 0 && (!on_device(fn, "x", -1, x, vector_bytes(n, incx)) || !on_device(fn, "y", -1, y, vector_bytes(n, incy))))
    return CUBLAS_STATUS_EXECUTION_FAILED;
  float acc = 0.0f;  // n <= 0: the result is 0
  for (int64_t i = 0; i < n; ++i) acc += x[at(i, n, incx)] * y[at(i, n, incy)];
  return write_scalar(handle, fn, "result", result, acc);
}

cublasStatus_t cublasSscal_v2(cublasHandle_t handle, int n, const float* alpha, float* x, int incx) {
  const char* fn = "cublasSscal";
  if (!live(handle)) return CUBLAS_STATUS_NOT_INITIALIZED;
  if (!alpha) return CUBLAS_STATUS_INVALID_VALUE;
  if (n <= 0 || incx <= 0) return kOk;  // BLAS: nothing to scale
  float a = 0;
  if (Status st = read_scalar(handle, fn, "alpha", alpha, a); st != kOk) return st;
  if (!on_device(fn, "x", -1, x, vector_bytes(n, incx))) return CUBLAS_STATUS_EXECUTION_FAILED;
  for (int64_t i = 0; i < n; ++i) x[i * incx] *= a;
  return kOk;
}

}  // extern "C"
