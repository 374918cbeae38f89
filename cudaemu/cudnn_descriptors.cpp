// The cuDNN stand-in's handles, status strings and descriptors, with the argument checks the
// cuDNN API reference documents for each setter (BAD_PARAM for invalid values, NOT_SUPPORTED for
// what this stand-in does not compute).
#include <cudnn.h>

#include <cstdio>
#include <limits>

#include "cudnn_internal.h"
#include "state.h"

namespace curec_emu::dnn {
namespace {
thread_local std::string last_error;
}  // namespace

cudnnStatus_t fail(cudnnStatus_t status, const char* fn, const std::string& why) {
  last_error = std::string(fn) + ": " + why;
  return status;
}

bool device_operand(cudnnHandle_t handle, const char* fn, const char* operand, const void* p, size_t bytes) {
  if (!is_device_range(p, bytes)) {
    fault(cudaErrorIllegalAddress, std::string(fn) + ": " + describe_bad_range(p, bytes, operand));
    return false;
  }
  // Without peer access (curec never enables it) a kernel cannot reach another device's memory,
  // and cuDNN runs its kernels on the handle's device.
  const int device = find_allocation(p)->device;
  if (device != handle->device) {
    fault(cudaErrorIllegalAddress, std::string(fn) + ": " + operand + " is memory of device " + std::to_string(device) +
                                       ", but the handle belongs to device " + std::to_string(handle->device));
    return false;
  }
  return true;
}

bool host_scalars(const char* fn, const void* alpha, const void* beta) {
  for (const auto& [name, p] : {std::pair{"alpha", alpha}, std::pair{"beta", beta}}) {
    const auto a = find_allocation(p);
    if (a && a->kind == MemoryKind::device && static_cast<const char*>(p) < a->base + a->bytes) {
      fault(cudaErrorInvalidValue, std::string(fn) + ": " + name +
                                       " points into device memory, but cuDNN reads alpha and beta on the host "
                                       "(a GPU run would crash dereferencing it)");
      return false;
    }
  }
  return true;
}

}  // namespace curec_emu::dnn

using curec_emu::dnn::fail;

extern "C" {

size_t cudnnGetVersion(void) { return CUDNN_VERSION; }

const char* cudnnGetErrorString(cudnnStatus_t status) {
  switch (status) {
#define CASE(s) \
  case s:       \
    return #s
    CASE(CUDNN_STATUS_SUCCESS);
    CASE(CUDNN_STATUS_NOT_INITIALIZED);
    CASE(CUDNN_STATUS_SUBLIBRARY_VERSION_MISMATCH);
    CASE(CUDNN_STATUS_DEPRECATED);
    CASE(CUDNN_STATUS_BAD_PARAM);
    CASE(CUDNN_STATUS_BAD_PARAM_NULL_POINTER);
    CASE(CUDNN_STATUS_BAD_PARAM_SHAPE_MISMATCH);
    CASE(CUDNN_STATUS_NOT_SUPPORTED);
    CASE(CUDNN_STATUS_NOT_SUPPORTED_DATA_TYPE);
    CASE(CUDNN_STATUS_NOT_SUPPORTED_LAYOUT);
    CASE(CUDNN_STATUS_INTERNAL_ERROR);
    CASE(CUDNN_STATUS_INTERNAL_ERROR_HOST_ALLOCATION_FAILED);
    CASE(CUDNN_STATUS_EXECUTION_FAILED);
#undef CASE
    default:
      return "CUDNN_STATUS_UNKNOWN";
  }
}

void cudnnGetLastErrorString(char* message, size_t max_size) {
  if (!message || max_size == 0) return;
  std::snprintf(message, max_size, "%s", curec_emu::dnn::last_error.c_str());
}

cudnnStatus_t cudnnCreate(cudnnHandle_t* handle) {
  if (!handle) return fail(CUDNN_STATUS_BAD_PARAM, "cudnnCreate", "handle is NULL");
  *handle = new cudnnContext{curec_emu::current_device(), nullptr};
  curec_emu::keep(*handle);
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnDestroy(cudnnHandle_t handle) {
  if (!handle) return fail(CUDNN_STATUS_BAD_PARAM, "cudnnDestroy", "handle is NULL");
  curec_emu::drop(handle);
  delete handle;
  return CUDNN_STATUS_SUCCESS;
}

// Streams run synchronously on the calling thread in this emulator, so the stream is only kept
// for cudnnGetStream.
cudnnStatus_t cudnnSetStream(cudnnHandle_t handle, cudaStream_t stream) {
  if (!handle) return fail(CUDNN_STATUS_BAD_PARAM, "cudnnSetStream", "handle is NULL");
  handle->stream = stream;
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnGetStream(cudnnHandle_t handle, cudaStream_t* stream) {
  if (!handle || !stream) return fail(CUDNN_STATUS_BAD_PARAM, "cudnnGetStream", "handle or stream is NULL");
  *stream = handle->stream;
  return CUDNN_STATUS_SUCCESS;
}

// ---- tensors ----

cudnnStatus_t cudnnCreateTensorDescriptor(cudnnTensorDescriptor_t* desc) {
  if (!desc) return fail(CUDNN_STATUS_BAD_PARAM, "cudnnCreateTensorDescriptor", "tensorDesc is NULL");
  *desc = new cudnnTensorStruct;
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnDestroyTensorDescriptor(cudnnTensorDescriptor_t desc) {
  delete desc;  // NULL is allowed and does nothing
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnSetTensor4dDescriptorEx(cudnnTensorDescriptor_t desc, cudnnDataType_t type, int n, int c, int h,
                                           int w, int n_stride, int c_stride, int h_stride, int w_stride) {
  const char* fn = "cudnnSetTensor4dDescriptorEx";
  if (!desc) return fail(CUDNN_STATUS_BAD_PARAM, fn, "tensorDesc is NULL");
  if (!curec_emu::dnn::valid_type(type)) return fail(CUDNN_STATUS_BAD_PARAM, fn, "invalid dataType");
  // The docs name negative values; cuDNN also refuses empty tensors, and a zero stride would
  // make one output element stand for several.
  if (n <= 0 || c <= 0 || h <= 0 || w <= 0)
    return fail(CUDNN_STATUS_BAD_PARAM, fn, "n, c, h and w must be positive");
  if (n_stride <= 0 || c_stride <= 0 || h_stride <= 0 || w_stride <= 0)
    return fail(CUDNN_STATUS_BAD_PARAM, fn, "strides must be positive");
  const int64_t elements = int64_t{n} * c * h * w;
  if (elements > std::numeric_limits<int32_t>::max())
    return fail(CUDNN_STATUS_NOT_SUPPORTED, fn, "more than 2 Giga-elements");
  desc->type = type;
  desc->layout = {{n, c, h, w}, {n_stride, c_stride, h_stride, w_stride}};
  desc->set = true;
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnSetTensor4dDescriptor(cudnnTensorDescriptor_t desc, cudnnTensorFormat_t format,
                                         cudnnDataType_t type, int n, int c, int h, int w) {
  const char* fn = "cudnnSetTensor4dDescriptor";
  if (!desc) return fail(CUDNN_STATUS_BAD_PARAM, fn, "tensorDesc is NULL");
  if (!curec_emu::dnn::valid_format(format)) return fail(CUDNN_STATUS_BAD_PARAM, fn, "invalid format");
  if (format == CUDNN_TENSOR_NCHW_VECT_C) return fail(CUDNN_STATUS_NOT_SUPPORTED, fn, "NCHW_VECT_C");
  if (n < 0 || c < 0 || h < 0 || w < 0) return fail(CUDNN_STATUS_BAD_PARAM, fn, "negative dimension");
  // Checked before the packed strides are formed, so they cannot overflow an int.
  if (int64_t{n} * c * h * w > std::numeric_limits<int32_t>::max())
    return fail(CUDNN_STATUS_NOT_SUPPORTED, fn, "more than 2 Giga-elements");
  if (format == CUDNN_TENSOR_NCHW) return cudnnSetTensor4dDescriptorEx(desc, type, n, c, h, w, c * h * w, h * w, w, 1);
  return cudnnSetTensor4dDescriptorEx(desc, type, n, c, h, w, h * w * c, 1, w * c, c);
}

cudnnStatus_t cudnnGetTensor4dDescriptor(const cudnnTensorDescriptor_t desc, cudnnDataType_t* type, int* n, int* c,
                                         int* h, int* w, int* n_stride, int* c_stride, int* h_stride,
                                         int* w_stride) {
  const char* fn = "cudnnGetTensor4dDescriptor";
  if (!desc || !type || !n || !c || !h || !w || !n_stride || !c_stride || !h_stride || !w_stride)
    return fail(CUDNN_STATUS_BAD_PARAM, fn, "a NULL argument");
  if (!desc->set) return fail(CUDNN_STATUS_BAD_PARAM, fn, "tensorDesc was never set");
  const curec_emu::dnn::Layout& l = desc->layout;
  *type = desc->type;
  int* dims[4] = {n, c, h, w};
  int* strides[4] = {n_stride, c_stride, h_stride, w_stride};
  for (int i = 0; i < 4; ++i) {
    *dims[i] = static_cast<int>(l.dim[i]);
    *strides[i] = static_cast<int>(l.stride[i]);
  }
  return CUDNN_STATUS_SUCCESS;
}

// ---- filters ----

cudnnStatus_t cudnnCreateFilterDescriptor(cudnnFilterDescriptor_t* desc) {
  if (!desc) return fail(CUDNN_STATUS_BAD_PARAM, "cudnnCreateFilterDescriptor", "filterDesc is NULL");
  *desc = new cudnnFilterStruct;
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnDestroyFilterDescriptor(cudnnFilterDescriptor_t desc) {
  delete desc;
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnSetFilter4dDescriptor(cudnnFilterDescriptor_t desc, cudnnDataType_t type,
                                         cudnnTensorFormat_t format, int k, int c, int h, int w) {
  const char* fn = "cudnnSetFilter4dDescriptor";
  if (!desc) return fail(CUDNN_STATUS_BAD_PARAM, fn, "filterDesc is NULL");
  if (!curec_emu::dnn::valid_type(type) || !curec_emu::dnn::valid_format(format))
    return fail(CUDNN_STATUS_BAD_PARAM, fn, "invalid dataType or format");
  if (k <= 0 || c <= 0 || h <= 0 || w <= 0) return fail(CUDNN_STATUS_BAD_PARAM, fn, "k, c, h and w must be positive");
  if (format == CUDNN_TENSOR_NCHW_VECT_C) return fail(CUDNN_STATUS_NOT_SUPPORTED, fn, "NCHW_VECT_C");
  if (int64_t{k} * c * h * w > std::numeric_limits<int32_t>::max())
    return fail(CUDNN_STATUS_NOT_SUPPORTED, fn, "more than 2 Giga-elements");
  desc->type = type;
  desc->format = format;
  if (format == CUDNN_TENSOR_NCHW)
    desc->layout = {{k, c, h, w}, {int64_t{c} * h * w, int64_t{h} * w, w, 1}};
  else  // NHWC filters are K, R, S, C in memory
    desc->layout = {{k, c, h, w}, {int64_t{h} * w * c, 1, int64_t{w} * c, c}};
  desc->set = true;
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnGetFilter4dDescriptor(const cudnnFilterDescriptor_t desc, cudnnDataType_t* type,
                                         cudnnTensorFormat_t* format, int* k, int* c, int* h, int* w) {
  const char* fn = "cudnnGetFilter4dDescriptor";
  if (!desc || !type || !format || !k || !c || !h || !w) return fail(CUDNN_STATUS_BAD_PARAM, fn, "a NULL argument");
  if (!desc->set) return fail(CUDNN_STATUS_BAD_PARAM, fn, "filterDesc was never set");
  *type = desc->type;
  *format = desc->format;
  *k = static_cast<int>(desc->layout.dim[0]);
  *c = static_cast<int>(desc->layout.dim[1]);
  *h = static_cast<int>(desc->layout.dim[2]);
  *w = static_cast<int>(desc->layout.dim[3]);
  return CUDNN_STATUS_SUCCESS;
}

// ---- convolutions ----

cudnnStatus_t cudnnCreateConvolutionDescriptor(cudnnConvolutionDescriptor_t* desc) {
  if (!desc) return fail(CUDNN_STATUS_BAD_PARAM, "cudnnCreateConvolutionDescriptor", "convDesc is NULL");
  *desc = new cudnnConvolutionStruct;
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnDestroyConvolutionDescriptor(cudnnConvolutionDescriptor_t desc) {
  delete desc;
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnSetConvolution2dDescriptor(cudnnConvolutionDescriptor_t desc, int pad_h, int pad_w, int u, int v,
                                              int dilation_h, int dilation_w, cudnnConvolutionMode_t mode,
                                              cudnnDataType_t compute) {
  const char* fn = "cudnnSetConvolution2dDescriptor";
  if (!desc) return fail(CUDNN_STATUS_BAD_PARAM, fn, "convDesc is NULL");
  if (pad_h < 0 || pad_w < 0) return fail(CUDNN_STATUS_BAD_PARAM, fn, "negative padding");
  if (u <= 0 || v <= 0) return fail(CUDNN_STATUS_BAD_PARAM, fn, "stride must be positive");
  if (dilation_h <= 0 || dilation_w <= 0) return fail(CUDNN_STATUS_BAD_PARAM, fn, "dilation must be positive");
  if (mode != CUDNN_CONVOLUTION && mode != CUDNN_CROSS_CORRELATION)
    return fail(CUDNN_STATUS_BAD_PARAM, fn, "invalid mode");
  if (!curec_emu::dnn::valid_type(compute)) return fail(CUDNN_STATUS_BAD_PARAM, fn, "invalid computeType");
  desc->pad_h = pad_h;
  desc->pad_w = pad_w;
  desc->stride_h = u;
  desc->stride_w = v;
  desc->dilation_h = dilation_h;
  desc->dilation_w = dilation_w;
  desc->mode = mode;
  desc->compute = compute;
  desc->set = true;
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnGetConvolution2dDescriptor(const cudnnConvolutionDescriptor_t desc, int* pad_h, int* pad_w, int* u,
                                              int* v, int* dilation_h, int* dilation_w,
                                              cudnnConvolutionMode_t* mode, cudnnDataType_t* compute) {
  const char* fn = "cudnnGetConvolution2dDescriptor";
  if (!desc || !pad_h || !pad_w || !u || !v || !dilation_h || !dilation_w || !mode || !compute)
    return fail(CUDNN_STATUS_BAD_PARAM, fn, "a NULL argument");
  if (!desc->set) return fail(CUDNN_STATUS_BAD_PARAM, fn, "convDesc was never set");
  *pad_h = desc->pad_h;
  *pad_w = desc->pad_w;
  *u = desc->stride_h;
  *v = desc->stride_w;
  *dilation_h = desc->dilation_h;
  *dilation_w = desc->dilation_w;
  *mode = desc->mode;
  *compute = desc->compute;
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnSetConvolutionMathType(cudnnConvolutionDescriptor_t desc, cudnnMathType_t math) {
  const char* fn = "cudnnSetConvolutionMathType";
  if (!desc) return fail(CUDNN_STATUS_BAD_PARAM, fn, "convDesc is NULL");
  if (math < CUDNN_DEFAULT_MATH || math > CUDNN_FMA_MATH) return fail(CUDNN_STATUS_BAD_PARAM, fn, "invalid mathType");
  desc->math = math;
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnGetConvolutionMathType(cudnnConvolutionDescriptor_t desc, cudnnMathType_t* math) {
  if (!desc || !math) return fail(CUDNN_STATUS_BAD_PARAM, "cudnnGetConvolutionMathType", "a NULL argument");
  *math = desc->math;
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnSetConvolutionGroupCount(cudnnConvolutionDescriptor_t desc, int groups) {
  const char* fn = "cudnnSetConvolutionGroupCount";
  if (!desc) return fail(CUDNN_STATUS_BAD_PARAM, fn, "convDesc is NULL");
  if (groups < 1) return fail(CUDNN_STATUS_BAD_PARAM, fn, "groupCount must be positive");
  desc->groups = groups;
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnGetConvolutionGroupCount(cudnnConvolutionDescriptor_t desc, int* groups) {
  if (!desc || !groups) return fail(CUDNN_STATUS_BAD_PARAM, "cudnnGetConvolutionGroupCount", "a NULL argument");
  *groups = desc->groups;
  return CUDNN_STATUS_SUCCESS;
}

// ---- pooling ----

cudnnStatus_t cudnnCreatePoolingDescriptor(cudnnPoolingDescriptor_t* desc) {
  if (!desc) return fail(CUDNN_STATUS_BAD_PARAM, "cudnnCreatePoolingDescriptor", "poolingDesc is NULL");
  *desc = new cudnnPoolingStruct;
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnDestroyPoolingDescriptor(cudnnPoolingDescriptor_t desc) {
  delete desc;
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnSetPooling2dDescriptor(cudnnPoolingDescriptor_t desc, cudnnPoolingMode_t mode,
                                          cudnnNanPropagation_t nan, int window_h, int window_w, int pad_h,
                                          int pad_w, int stride_h, int stride_w) {
  const char* fn = "cudnnSetPooling2dDescriptor";
  if (!desc) return fail(CUDNN_STATUS_BAD_PARAM, fn, "poolingDesc is NULL");
  if (mode < CUDNN_POOLING_MAX || mode > CUDNN_POOLING_MAX_DETERMINISTIC)
    return fail(CUDNN_STATUS_BAD_PARAM, fn, "invalid mode");
  if (nan != CUDNN_NOT_PROPAGATE_NAN && nan != CUDNN_PROPAGATE_NAN)
    return fail(CUDNN_STATUS_BAD_PARAM, fn, "invalid maxpoolingNanOpt");
  if (window_h <= 0 || window_w <= 0 || stride_h <= 0 || stride_w <= 0)
    return fail(CUDNN_STATUS_BAD_PARAM, fn, "window and stride must be positive");
  if (pad_h < 0 || pad_w < 0) return fail(CUDNN_STATUS_BAD_PARAM, fn, "negative padding");
  *desc = {true, mode, nan, window_h, window_w, pad_h, pad_w, stride_h, stride_w};
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnGetPooling2dDescriptor(const cudnnPoolingDescriptor_t desc, cudnnPoolingMode_t* mode,
                                          cudnnNanPropagation_t* nan, int* window_h, int* window_w, int* pad_h,
                                          int* pad_w, int* stride_h, int* stride_w) {
  const char* fn = "cudnnGetPooling2dDescriptor";
  if (!desc || !mode || !nan || !window_h || !window_w || !pad_h || !pad_w || !stride_h || !stride_w)
    return fail(CUDNN_STATUS_BAD_PARAM, fn, "a NULL argument");
  if (!desc->set) return fail(CUDNN_STATUS_BAD_PARAM, fn, "poolingDesc was never set");
  *mode = desc->mode;
  *nan = desc->nan;
  *window_h = desc->window_h;
  *window_w = desc->window_w;
  *pad_h = desc->pad_h;
  *pad_w = desc->pad_w;
  *stride_h = desc->stride_h;
  *stride_w = desc->stride_w;
  return CUDNN_STATUS_SUCCESS;
}

}  // extern "C"
