// cuSOLVER (dense) stand-in for the emulated device: Cholesky factorisation and solve, batched
// and not, computed by LAPACK (OpenBLAS) in place on the registered device memory, after the
// documented argument rules and a registry check of every pointer the device would follow.
#include <cusolverDn.h>

#include <algorithm>
#include <cstdint>
#include <string>

#include "handles.h"
#include "state.h"

extern "C" {
// LAPACK's Fortran entry points; the trailing size_t is the hidden length of the uplo string.
void spotrf_(const char* uplo, const int* n, float* a, const int* lda, int* info, size_t uplo_len);
void spotrs_(const char* uplo, const int* n, const int* nrhs, const float* a, const int* lda, float* b, const int* ldb,
             int* info, size_t uplo_len);
}

struct cusolverDnContext {
  cudaStream_t stream = nullptr;  // streams run synchronously here; kept for cusolverDnGetStream
};

namespace {

using Status = cusolverStatus_t;
constexpr Status kOk = CUSOLVER_STATUS_SUCCESS;

curec_emu::Handles<cusolverDnContext>& handles = *new curec_emu::Handles<cusolverDnContext>;  // outlives static destructors

bool live(const cusolverDnContext* h) { return handles.live(h); }

bool valid_uplo(cublasFillMode_t uplo) { return uplo == CUBLAS_FILL_MODE_LOWER || uplo == CUBLAS_FILL_MODE_UPPER; }
const char* lapack_uplo(cublasFillMode_t uplo) { return uplo == CUBLAS_FILL_MODE_LOWER ? "L" : "U"; }

// Bytes from a column-major rows x cols matrix's first element to one past its last one.
size_t matrix_bytes(int64_t rows, int64_t cols, int64_t ld) {
  if (rows <= 0 || cols <= 0) return 0;
  return static_cast<size_t>((cols - 1) * ld + rows) * sizeof(float);
}

// Whether [p, p + bytes) is device memory; faults naming the operand (and batch) when it is not.
bool on_device(const char* fn, const char* operand, int batch, const void* p, size_t bytes) {
  if (bytes == 0 || curec_emu::is_device_range(p, bytes)) return true;
  std::string name = operand;
  if (batch >= 0) name += "[" + std::to_string(batch) + "]";
  curec_emu::fault(cudaErrorIllegalAddress, std::string(fn) + ": " + curec_emu::describe_bad_range(p, bytes, name));
  return false;
}

// The Lwork cusolverDnSpotrf_bufferSize asks for. LAPACK needs none; asking for some still
// makes the emulator check that the caller allocates and passes what it was told.
int potrf_lwork(int n) { return std::max(1, n); }

}  // namespace

extern "C" {

cusolverStatus_t cusolverDnCreate(cusolverDnHandle_t* handle) {
  if (!handle) return CUSOLVER_STATUS_INVALID_VALUE;
  *handle = handles.create();
  return kOk;
}

cusolverStatus_t cusolverDnDestroy(cusolverDnHandle_t handle) {
  return handles.destroy(handle) ? kOk : CUSOLVER_STATUS_NOT_INITIALIZED;
}

cusolverStatus_t cusolverDnSetStream(cusolverDnHandle_t handle, cudaStream_t stream) {
  if (!live(handle)) return CUSOLVER_STATUS_NOT_INITIALIZED;
  handle->stream = stream;
  return kOk;
}

cusolverStatus_t cusolverDnGetStream(cusolverDnHandle_t handle, cudaStream_t* stream) {
  if (!live(handle)) return CUSOLVER_STATUS_NOT_INITIALIZED;
  if (!stream) return CUSOLVER_STATUS_INVALID_VALUE;
  *stream = handle->stream;
  return kOk;
}

cusolverStatus_t cusolverDnSpotrf_bufferSize(cusolverDnHandle_t handle, cublasFillMode_t uplo, int n, float* /*A*/,
                                             int lda, int* Lwork) {
  if (!live(handle)) return CUSOLVER_STATUS_NOT_INITIALIZED;
  if (!valid_uplo(uplo) || n < 0 || lda < std::max(1, n) || !Lwork) return CUSOLVER_STATUS_INVALID_VALUE;
  *Lwork = potrf_lwork(n);
  return kOk;
}

cusolverStatus_t cusolverDnSpotrf(cusolverDnHandle_t handle, cublasFillMode_t uplo, int n, float* A, int lda,
                                  float* Workspace, int Lwork, int* devInfo) {
  const char* fn = "cusolverDnSpotrf";
  if (!live(handle)) return CUSOLVER_STATUS_NOT_INITIALIZED;
  if (!valid_uplo(uplo) || n < 0 || lda < std::max(1, n) || Lwork < potrf_lwork(n))
    return CUSOLVER_STATUS_INVALID_VALUE;
  if (!on_device(fn, "devInfo", -1, devInfo, sizeof(int)) || !on_device(fn, "A", -1, A, matrix_bytes(n, n, lda)) ||
      !on_device(fn, "Workspace", -1, Workspace, static_cast<size_t>(Lwork) * sizeof(float)))
    return CUSOLVER_STATUS_EXECUTION_FAILED;
  int info = 0;
  if (n > 0) spotrf_(lapack_uplo(uplo), &n, A, &lda, &info, 1);
  *devInfo = info;
  return kOk;
}

cusolverStatus_t cusolverDnSpotrs(cusolverDnHandle_t handle, cublasFillMode_t uplo, int n, int nrhs, const float* A,
                                  int lda, float* B, int ldb, int* devInfo) {
  const char* fn = "cusolverDnSpotrs";
  if (!live(handle)) return CUSOLVER_STATUS_NOT_INITIALIZED;
  if (!valid_uplo(uplo) || n < 0 || nrhs < 0 || lda < std::max(1, n) || ldb < std::max(1, n))
    return CUSOLVER_STATUS_INVALID_VALUE;
  if (!on_device(fn, "devInfo", -1, devInfo, sizeof(int)) || !on_device(fn, "A", -1, A, matrix_bytes(n, n, lda)) ||
      !on_device(fn, "B", -1, B, matrix_bytes(n, nrhs, ldb)))
    return CUSOLVER_STATUS_EXECUTION_FAILED;
  int info = 0;
  if (n > 0 && nrhs > 0) spotrs_(lapack_uplo(uplo), &n, &nrhs, A, &lda, B, &ldb, &info, 1);
  *devInfo = info;
  return kOk;
}

cusolverStatus_t cusolverDnSpotrfBatched(cusolverDnHandle_t handle, cublasFillMode_t uplo, int n, float* Aarray[],
                                         int lda, int* infoArray, int batchSize) {
  const char* fn = "cusolverDnSpotrfBatched";
  if (!live(handle)) return CUSOLVER_STATUS_NOT_INITIALIZED;
  if (!valid_uplo(uplo) || n < 0 || lda < std::max(1, n) || batchSize < 1) return CUSOLVER_STATUS_INVALID_VALUE;
  const size_t batch = static_cast<size_t>(batchSize);
  if (!on_device(fn, "infoArray", -1, infoArray, batch * sizeof(int))) return CUSOLVER_STATUS_EXECUTION_FAILED;
  if (n > 0) {
    // Aarray is a device array of device pointers: the array first, then each matrix.
    if (!on_device(fn, "Aarray", -1, Aarray, batch * sizeof(float*))) return CUSOLVER_STATUS_EXECUTION_FAILED;
    for (int i = 0; i < batchSize; ++i)
      if (!on_device(fn, "Aarray", i, Aarray[i], matrix_bytes(n, n, lda))) return CUSOLVER_STATUS_EXECUTION_FAILED;
  }
  for (int i = 0; i < batchSize; ++i) {
    int info = 0;
    if (n > 0) spotrf_(lapack_uplo(uplo), &n, Aarray[i], &lda, &info, 1);
    infoArray[i] = info;  // 0, or the order of the first leading minor that is not positive definite
  }
  return kOk;
}

cusolverStatus_t cusolverDnSpotrsBatched(cusolverDnHandle_t handle, cublasFillMode_t uplo, int n, int nrhs, float* A[],
                                         int lda, float* B[], int ldb, int* d_info, int batchSize) {
  const char* fn = "cusolverDnSpotrsBatched";
  if (!live(handle)) return CUSOLVER_STATUS_NOT_INITIALIZED;
  // The batched solve is documented for one right-hand side only.
  if (!valid_uplo(uplo) || n < 0 || nrhs != 1 || lda < std::max(1, n) || ldb < std::max(1, n) || batchSize < 1)
    return CUSOLVER_STATUS_INVALID_VALUE;
  const size_t batch = static_cast<size_t>(batchSize);
  if (!on_device(fn, "d_info", -1, d_info, sizeof(int))) return CUSOLVER_STATUS_EXECUTION_FAILED;
  if (n > 0) {
    if (!on_device(fn, "A", -1, A, batch * sizeof(float*)) || !on_device(fn, "B", -1, B, batch * sizeof(float*)))
      return CUSOLVER_STATUS_EXECUTION_FAILED;
    for (int i = 0; i < batchSize; ++i)
      if (!on_device(fn, "A", i, A[i], matrix_bytes(n, n, lda)) ||
          !on_device(fn, "B", i, B[i], matrix_bytes(n, 1, ldb)))
        return CUSOLVER_STATUS_EXECUTION_FAILED;
  }
  // A single info for the whole batch: LAPACK only reports argument errors, ruled out above.
  int info = 0;
  for (int i = 0; i < batchSize && n > 0 && info == 0; ++i)
    spotrs_(lapack_uplo(uplo), &n, &nrhs, A[i], &lda, B[i], &ldb, &info, 1);
  *d_info = info;
  return kOk;
}

}  // extern "C"
