// The cuDNN stand-in's bias routines: cudnnAddTensor (C = alpha * A + beta * C, A broadcast
// over every dimension where it is 1) and cudnnConvolutionBackwardBias (db = alpha * the sum of
// dy over N, H and W + beta * db), from the cuDNN API reference.
#include <cudnn.h>

#include <string>

#include "cudnn_internal.h"

using namespace curec_emu::dnn;

namespace {

cudnnStatus_t check_pair(const char* fn, cudnnTensorDescriptor_t a, cudnnTensorDescriptor_t b) {
  if (!a || !b) return fail(CUDNN_STATUS_BAD_PARAM, fn, "a NULL descriptor");
  if (!a->set || !b->set) return fail(CUDNN_STATUS_BAD_PARAM, fn, "a descriptor that was never set");
  if (a->type != b->type) return fail(CUDNN_STATUS_BAD_PARAM, fn, "the tensors' data types differ");
  if (a->type != CUDNN_DATA_FLOAT) return fail(CUDNN_STATUS_NOT_SUPPORTED, fn, "only CUDNN_DATA_FLOAT is emulated");
  return CUDNN_STATUS_SUCCESS;
}

std::string dims(const Layout& l) {
  return std::to_string(l.dim[0]) + " x " + std::to_string(l.dim[1]) + " x " + std::to_string(l.dim[2]) + " x " +
         std::to_string(l.dim[3]);
}

}  // namespace

extern "C" {

cudnnStatus_t cudnnAddTensor(cudnnHandle_t handle, const void* alpha, const cudnnTensorDescriptor_t a_desc,
                             const void* a, const void* beta, const cudnnTensorDescriptor_t c_desc, void* c) {
  const char* fn = "cudnnAddTensor";
  if (!handle) return fail(CUDNN_STATUS_BAD_PARAM, fn, "handle is NULL");
  if (auto s = check_pair(fn, a_desc, c_desc)) return s;
  if (!alpha || !beta || !a || !c) return fail(CUDNN_STATUS_BAD_PARAM, fn, "a NULL data or scaling pointer");
  if (!host_scalars(fn, alpha, beta)) return fail(CUDNN_STATUS_BAD_PARAM, fn, "alpha or beta in device memory");
  const Layout& al = a_desc->layout;
  const Layout& cl = c_desc->layout;
  for (int i = 0; i < 4; ++i)
    if (al.dim[i] != cl.dim[i] && al.dim[i] != 1)
      return fail(CUDNN_STATUS_BAD_PARAM, fn, "A (" + dims(al) + ") does not broadcast to C (" + dims(cl) + ")");
  if (!device_operand(handle, fn, "A", a, al.span_bytes()) || !device_operand(handle, fn, "C", c, cl.span_bytes()))
    return CUDNN_STATUS_EXECUTION_FAILED;
  const auto* in = static_cast<const float*>(a);
  auto* out = static_cast<float*>(c);
  const Scaling s{scalar(alpha), scalar(beta)};
  // A broadcast dimension has size 1, so its index is always 0: use a zero stride for it.
  Layout from = al;
  for (int i = 0; i < 4; ++i)
    if (al.dim[i] == 1) from.stride[i] = 0;
  for (int64_t n = 0; n < cl.dim[0]; ++n)
    for (int64_t ch = 0; ch < cl.dim[1]; ++ch)
      for (int64_t h = 0; h < cl.dim[2]; ++h)
        for (int64_t w = 0; w < cl.dim[3]; ++w) {
          float& o = out[cl.at(n, ch, h, w)];
          o = blend(in[from.at(n, ch, h, w)], s.alpha, s.beta, o);
        }
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnConvolutionBackwardBias(cudnnHandle_t handle, const void* alpha, const cudnnTensorDescriptor_t dy_desc,
                                           const void* dy, const void* beta, const cudnnTensorDescriptor_t db_desc,
                                           void* db) {
  const char* fn = "cudnnConvolutionBackwardBias";
  if (!handle) return fail(CUDNN_STATUS_BAD_PARAM, fn, "handle is NULL");
  if (auto s = check_pair(fn, dy_desc, db_desc)) return s;
  if (!alpha || !beta || !dy || !db) return fail(CUDNN_STATUS_BAD_PARAM, fn, "a NULL data or scaling pointer");
  if (!host_scalars(fn, alpha, beta)) return fail(CUDNN_STATUS_BAD_PARAM, fn, "alpha or beta in device memory");
  const Layout& yl = dy_desc->layout;
  const Layout& bl = db_desc->layout;
  if (bl.dim[0] != 1 || bl.dim[2] != 1 || bl.dim[3] != 1 || bl.dim[1] != yl.dim[1])
    return fail(CUDNN_STATUS_BAD_PARAM, fn, "db is " + dims(bl) + ", must be 1 x " + std::to_string(yl.dim[1]) + " x 1 x 1");
  if (!device_operand(handle, fn, "dy", dy, yl.span_bytes()) || !device_operand(handle, fn, "db", db, bl.span_bytes()))
    return CUDNN_STATUS_EXECUTION_FAILED;
  const auto* in = static_cast<const float*>(dy);
  auto* out = static_cast<float*>(db);
  for (int64_t ch = 0; ch < yl.dim[1]; ++ch) {
    double sum = 0;
    for (int64_t n = 0; n < yl.dim[0]; ++n)
      for (int64_t h = 0; h < yl.dim[2]; ++h)
        for (int64_t w = 0; w < yl.dim[3]; ++w) sum += in[yl.at(n, ch, h, w)];
    float& o = out[bl.at(0, ch, 0, 0)];
    o = blend(sum, scalar(alpha), scalar(beta), o);
  }
  return CUDNN_STATUS_SUCCESS;
}

}  // extern "C"
