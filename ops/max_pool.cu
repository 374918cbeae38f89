#include "core/cuda_context.h"
#include "ops/max_pool.h"

namespace curec::cuda {
namespace {

// x [N, C, L] seen by cuDNN as the image [N, C, L, 1], pooled by a kernel x 1 window.
struct PoolDescriptors {
  cudnnTensorDescriptor_t x = nullptr, y = nullptr;
  cudnnPoolingDescriptor_t pool = nullptr;

  PoolDescriptors(int64_t n, int64_t c, int64_t length, int64_t kernel, int64_t stride) {
    const int64_t out_len = (length - kernel) / stride + 1;
    CUREC_CUDNN_CHECK(cudnnCreateTensorDescriptor(&x));
    CUREC_CUDNN_CHECK(cudnnCreateTensorDescriptor(&y));
    CUREC_CUDNN_CHECK(cudnnCreatePoolingDescriptor(&pool));
    CUREC_CUDNN_CHECK(cudnnSetTensor4dDescriptor(x, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, static_cast<int>(n),
                                                 static_cast<int>(c), static_cast<int>(length), 1));
    CUREC_CUDNN_CHECK(cudnnSetTensor4dDescriptor(y, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, static_cast<int>(n),
                                                 static_cast<int>(c), static_cast<int>(out_len), 1));
    // Deterministic mode: each window's gradient goes to one element, the same on every run.
    CUREC_CUDNN_CHECK(cudnnSetPooling2dDescriptor(pool, CUDNN_POOLING_MAX_DETERMINISTIC, CUDNN_PROPAGATE_NAN,
                                                  static_cast<int>(kernel), 1, 0, 0, static_cast<int>(stride), 1));
  }
  ~PoolDescriptors() {
    // Destruction cannot fail in a way the caller could act on; ignore the status.
    cudnnDestroyPoolingDescriptor(pool);
    cudnnDestroyTensorDescriptor(y);
    cudnnDestroyTensorDescriptor(x);
  }
  PoolDescriptors(const PoolDescriptors&) = delete;
  PoolDescriptors& operator=(const PoolDescriptors&) = delete;
};

const float kOne = 1.0f, kZero = 0.0f;

}  // namespace

void max_pool1d_forward(const float* x, float* y, int64_t n, int64_t c, int64_t length, int64_t kernel,
                        int64_t stride, int device) {
  DeviceGuard guard(device);
  PoolDescriptors d(n, c, length, kernel, stride);
  CUREC_CUDNN_CHECK(cudnnPoolingForward(cudnn(device), d.pool, &kOne, d.x, x, &kZero, d.y, y));
}

void max_pool1d_backward(const float* x, const float* y, const float* dy, float* dx, int64_t n, int64_t c,
                         int64_t length, int64_t kernel, int64_t stride, int device) {
  DeviceGuard guard(device);
  PoolDescriptors d(n, c, length, kernel, stride);
  CUREC_CUDNN_CHECK(cudnnPoolingBackward(cudnn(device), d.pool, &kOne, d.y, y, d.y, dy, d.x, x, &kZero, d.x, dx));
}

}  // namespace curec::cuda
