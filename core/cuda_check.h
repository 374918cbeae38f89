#pragma once
// One checking macro per library: every CUDA, cuBLAS, cuDNN and NCCL return code goes through these.
#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cudnn.h>
#include <cusolverDn.h>
#include <nccl.h>

#include "core/error.h"

#define CUREC_CUDA_CHECK(expr)                                                              \
  do {                                                                                      \
    cudaError_t curec_err_ = (expr);                                                        \
    if (curec_err_ != cudaSuccess)                                                          \
      CUREC_FAIL(#expr, " failed: ", cudaGetErrorString(curec_err_), " (CUDA error ",       \
                 static_cast<int>(curec_err_), ")");                                        \
  } while (0)

// After a kernel launch: reports a bad launch configuration at the launch site.
#define CUREC_KERNEL_CHECK() CUREC_CUDA_CHECK(cudaGetLastError())

#define CUREC_CUBLAS_CHECK(expr)                                                             \
  do {                                                                                       \
    cublasStatus_t curec_st_ = (expr);                                                       \
    if (curec_st_ != CUBLAS_STATUS_SUCCESS)                                                  \
      CUREC_FAIL(#expr, " failed: ", cublasGetStatusString(curec_st_));                      \
  } while (0)

#define CUREC_CUDNN_CHECK(expr)                                                              \
  do {                                                                                       \
    cudnnStatus_t curec_st_ = (expr);                                                        \
    if (curec_st_ != CUDNN_STATUS_SUCCESS)                                                   \
      CUREC_FAIL(#expr, " failed: ", cudnnGetErrorString(curec_st_));                        \
  } while (0)

#define CUREC_CUSOLVER_CHECK(expr)                                                           \
  do {                                                                                       \
    cusolverStatus_t curec_st_ = (expr);                                                     \
    if (curec_st_ != CUSOLVER_STATUS_SUCCESS)                                                \
      CUREC_FAIL(#expr, " failed: cuSOLVER status ", static_cast<int>(curec_st_));           \
  } while (0)

#define CUREC_NCCL_CHECK(expr)                                                               \
  do {                                                                                       \
    ncclResult_t curec_st_ = (expr);                                                         \
    if (curec_st_ != ncclSuccess) CUREC_FAIL(#expr, " failed: ", ncclGetErrorString(curec_st_)); \
  } while (0)
