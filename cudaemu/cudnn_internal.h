#pragma once
// Shared by the cuDNN stand-in's files (cudnn_descriptors, _convolution, _kernels, _bias,
// _pooling .cpp): what its descriptors hold, the checks every data-touching call makes, and the
// convolution loops' interface. Not part of any API.
#include <cudnn.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace curec_emu::dnn {

// Four sizes and the element stride of each: a tensor's N, C, H, W or a filter's K, C, R, S.
// Every computation indexes through the strides, so NHWC and strided tensors cost nothing extra.
struct Layout {
  int64_t dim[4] = {0, 0, 0, 0};
  int64_t stride[4] = {0, 0, 0, 0};

  int64_t at(int64_t a, int64_t b, int64_t c, int64_t d) const {
    return a * stride[0] + b * stride[1] + c * stride[2] + d * stride[3];
  }
  int64_t elements() const { return dim[0] * dim[1] * dim[2] * dim[3]; }
  // Bytes from the first float element to just past the last one the strides reach.
  size_t span_bytes() const {
    int64_t last = 0;
    for (int i = 0; i < 4; ++i) last += (dim[i] - 1) * stride[i];
    return static_cast<size_t>(last + 1) * sizeof(float);
  }
};

// Remembers "fn: why" for cudnnGetLastErrorString and returns status, so every refusal says
// which documented condition it met.
cudnnStatus_t fail(cudnnStatus_t status, const char* fn, const std::string& why);

// Whether [p, p + bytes) is device memory of the handle's device. If not, reports the fault a
// GPU would meet when the kernel touched it (an illegal address, at the next sync) and returns
// false; the caller then returns CUDNN_STATUS_EXECUTION_FAILED.
bool device_operand(cudnnHandle_t handle, const char* fn, const char* operand, const void* p, size_t bytes);

// alpha and beta are host pointers in cuDNN's legacy API; one into device memory is reported as
// a fault (a GPU run would crash on it) and false returned, the caller then returns BAD_PARAM.
bool host_scalars(const char* fn, const void* alpha, const void* beta);

// The scaling factors of a float computation: host floats (cuDNN reads alpha and beta as the
// compute type, float for FLOAT data).
inline double scalar(const void* p) { return *static_cast<const float*>(p); }

// alpha * value + beta * old, where beta == 0 means old is not read (it may hold NaN), as the
// cuDNN docs promise for every "output = alpha * op + beta * output" routine.
inline float blend(double value, double alpha, double beta, const float& old) {
  return static_cast<float>(beta == 0.0 ? alpha * value : alpha * value + beta * static_cast<double>(old));
}

// Whether the cuDNN enumerants hold a value their headers define (an invalid one is BAD_PARAM).
inline bool valid_type(cudnnDataType_t t) { return t >= CUDNN_DATA_FLOAT && t <= CUDNN_DATA_COMPLEX_FP64; }
inline bool valid_format(cudnnTensorFormat_t f) { return f >= CUDNN_TENSOR_NCHW && f <= CUDNN_TENSOR_NCHW_VECT_C; }

// A checked convolution's shape: x is N x C x H x W, the filter K x CG x R x S (CG input channels
// per group), y N x K x OH x OW.
struct Geometry {
  int64_t n, c, h, w;
  int64_t k, cg, r, s;
  int64_t groups, kg;  // kg: output channels per group
  int64_t oh, ow;
  int64_t pad_h, pad_w, stride_h, stride_w, dilation_h, dilation_w;
  bool flip;  // CUDNN_CONVOLUTION: the filter is applied rotated by 180 degrees
};

struct Operand {
  const float* data;
  Layout layout;
};
struct Output {
  float* data;
  Layout layout;
};
struct Scaling {
  double alpha, beta;
};

// The direct loops (cudnn_kernels.cpp). `staged` algorithms stage data in `workspace`, which
// then holds at least staged_workspace_bytes(g).
inline size_t staged_workspace_bytes(const Geometry& g) {
  return static_cast<size_t>(g.k * g.cg * g.r * g.s) * sizeof(float);
}
void convolve_forward(const Geometry& g, bool staged, Scaling s, const Operand& x, const Operand& w, void* workspace,
                      const Output& y);
void convolve_backward_data(const Geometry& g, bool staged, Scaling s, const Operand& w, const Operand& dy,
                            void* workspace, const Output& dx);
void convolve_backward_filter(const Geometry& g, bool staged, Scaling s, const Operand& x, const Operand& dy,
                              void* workspace, const Output& dw);

}  // namespace curec_emu::dnn

// The opaque types cudnn.h declares, defined here (global namespace, as the header names them).
struct cudnnContext {
  int device = 0;  // the device current at cudnnCreate: the handle works on that device only
  cudaStream_t stream = nullptr;
};

struct cudnnTensorStruct {
  bool set = false;
  cudnnDataType_t type = CUDNN_DATA_FLOAT;
  curec_emu::dnn::Layout layout;  // N, C, H, W
};

struct cudnnFilterStruct {
  bool set = false;
  cudnnDataType_t type = CUDNN_DATA_FLOAT;
  cudnnTensorFormat_t format = CUDNN_TENSOR_NCHW;
  curec_emu::dnn::Layout layout;  // K, C, R, S: NCHW is KCRS in memory, NHWC is KRSC
};

struct cudnnConvolutionStruct {
  bool set = false;
  int pad_h = 0, pad_w = 0, stride_h = 1, stride_w = 1, dilation_h = 1, dilation_w = 1;
  cudnnConvolutionMode_t mode = CUDNN_CROSS_CORRELATION;
  cudnnDataType_t compute = CUDNN_DATA_FLOAT;
  cudnnMathType_t math = CUDNN_DEFAULT_MATH;
  int groups = 1;
};

struct cudnnPoolingStruct {
  bool set = false;
  cudnnPoolingMode_t mode = CUDNN_POOLING_MAX;
  cudnnNanPropagation_t nan = CUDNN_NOT_PROPAGATE_NAN;
  int window_h = 0, window_w = 0, pad_h = 0, pad_w = 0, stride_h = 1, stride_w = 1;
};
