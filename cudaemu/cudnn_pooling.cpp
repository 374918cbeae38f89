// The cuDNN stand-in's 2-D pooling, from the cuDNN API reference: windows at o * stride - pad,
// output size 1 + (in + 2 pad - window) / stride; max pooling never picks padding; average
// pooling divides by the whole window (COUNT_INCLUDE_PADDING) or by its elements inside the
// input (COUNT_EXCLUDE_PADDING). Backward routes each dy to the maximum the forward pass picked
// (the first one in window order on ties, recomputed from x) or spreads it over the window.
#include <cudnn.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "cudnn_internal.h"

using namespace curec_emu::dnn;

namespace {

struct Pool {
  const cudnnPoolingStruct& p;
  int64_t h, w;  // input size

  int64_t first_row(int64_t oh) const { return oh * p.stride_h - p.pad_h; }
  int64_t first_col(int64_t ow) const { return ow * p.stride_w - p.pad_w; }
  // The window's rows [r0, r1) and columns [c0, c1) that lie inside the input.
  void inside(int64_t oh, int64_t ow, int64_t& r0, int64_t& r1, int64_t& c0, int64_t& c1) const {
    r0 = std::max<int64_t>(first_row(oh), 0);
    r1 = std::min<int64_t>(first_row(oh) + p.window_h, h);
    c0 = std::max<int64_t>(first_col(ow), 0);
    c1 = std::min<int64_t>(first_col(ow) + p.window_w, w);
  }
  bool is_max() const { return p.mode == CUDNN_POOLING_MAX || p.mode == CUDNN_POOLING_MAX_DETERMINISTIC; }
  double divisor(int64_t r0, int64_t r1, int64_t c0, int64_t c1) const {
    if (p.mode == CUDNN_POOLING_AVERAGE_COUNT_INCLUDE_PADDING) return double(p.window_h) * p.window_w;
    return double((r1 - r0) * (c1 - c0));
  }
};

cudnnStatus_t output_dims(const char* fn, cudnnPoolingDescriptor_t pool, cudnnTensorDescriptor_t x, int64_t out[4]) {
  if (!pool || !x) return fail(CUDNN_STATUS_BAD_PARAM, fn, "a NULL descriptor");
  if (!pool->set || !x->set) return fail(CUDNN_STATUS_BAD_PARAM, fn, "a descriptor that was never set");
  const Layout& l = x->layout;
  if (pool->window_h > l.dim[2] + 2 * pool->pad_h || pool->window_w > l.dim[3] + 2 * pool->pad_w)
    return fail(CUDNN_STATUS_BAD_PARAM, fn, "the window is larger than the padded input");
  out[0] = l.dim[0];
  out[1] = l.dim[1];
  out[2] = 1 + (l.dim[2] + 2 * pool->pad_h - pool->window_h) / pool->stride_h;
  out[3] = 1 + (l.dim[3] + 2 * pool->pad_w - pool->window_w) / pool->stride_w;
  return CUDNN_STATUS_SUCCESS;
}

// x and y of one pooling: float, and y exactly the pooled size of x.
cudnnStatus_t check(const char* fn, cudnnHandle_t handle, cudnnPoolingDescriptor_t pool, cudnnTensorDescriptor_t x,
                    cudnnTensorDescriptor_t y) {
  if (!handle) return fail(CUDNN_STATUS_BAD_PARAM, fn, "handle is NULL");
  int64_t want[4];
  if (auto s = output_dims(fn, pool, x, want)) return s;
  if (!y || !y->set) return fail(CUDNN_STATUS_BAD_PARAM, fn, "yDesc is NULL or was never set");
  if (x->type != y->type) return fail(CUDNN_STATUS_BAD_PARAM, fn, "the tensors' data types differ");
  if (x->type != CUDNN_DATA_FLOAT) return fail(CUDNN_STATUS_NOT_SUPPORTED, fn, "only CUDNN_DATA_FLOAT is emulated");
  for (int i = 0; i < 4; ++i)
    if (y->layout.dim[i] != want[i])
      return fail(CUDNN_STATUS_BAD_PARAM, fn, "y's dimension " + std::to_string(i) + " is " +
                                                  std::to_string(y->layout.dim[i]) + ", pooling gives " +
                                                  std::to_string(want[i]));
  return CUDNN_STATUS_SUCCESS;
}

bool same_dims(cudnnTensorDescriptor_t a, cudnnTensorDescriptor_t b) {
  for (int i = 0; i < 4; ++i)
    if (a->layout.dim[i] != b->layout.dim[i]) return false;
  return a->type == b->type;
}

// The window's maximum and its position, the first in window order on ties (r < 0: no element
// counts, value -inf). A NaN is the maximum under CUDNN_PROPAGATE_NAN and skipped otherwise.
struct Pick {
  double value;
  int64_t r, q;
};

Pick window_max(const Pool& pool, const float* x, const Layout& xl, int64_t n, int64_t c, int64_t oh, int64_t ow) {
  int64_t r0, r1, c0, c1;
  pool.inside(oh, ow, r0, r1, c0, c1);
  Pick best{-std::numeric_limits<double>::infinity(), -1, -1};
  for (int64_t r = r0; r < r1; ++r)
    for (int64_t q = c0; q < c1; ++q) {
      const double v = x[xl.at(n, c, r, q)];
      if (std::isnan(v)) {
        if (pool.p.nan == CUDNN_PROPAGATE_NAN) return {v, r, q};
        continue;
      }
      if (best.r < 0 || v > best.value) best = {v, r, q};
    }
  return best;
}

}  // namespace

extern "C" {

cudnnStatus_t cudnnGetPooling2dForwardOutputDim(const cudnnPoolingDescriptor_t pool, const cudnnTensorDescriptor_t x,
                                                int* n, int* c, int* h, int* w) {
  const char* fn = "cudnnGetPooling2dForwardOutputDim";
  if (!n || !c || !h || !w) return fail(CUDNN_STATUS_BAD_PARAM, fn, "a NULL output");
  int64_t out[4];
  if (auto s = output_dims(fn, pool, x, out)) return s;
  *n = static_cast<int>(out[0]);
  *c = static_cast<int>(out[1]);
  *h = static_cast<int>(out[2]);
  *w = static_cast<int>(out[3]);
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnPoolingForward(cudnnHandle_t handle, const cudnnPoolingDescriptor_t pool_desc, const void* alpha,
                                  const cudnnTensorDescriptor_t x_desc, const void* x, const void* beta,
                                  const cudnnTensorDescriptor_t y_desc, void* y) {
  const char* fn = "cudnnPoolingForward";
  if (auto s = check(fn, handle, pool_desc, x_desc, y_desc)) return s;
  if (!alpha || !beta || !x || !y) return fail(CUDNN_STATUS_BAD_PARAM, fn, "a NULL data or scaling pointer");
  if (!host_scalars(fn, alpha, beta)) return fail(CUDNN_STATUS_BAD_PARAM, fn, "alpha or beta in device memory");
  const Layout& xl = x_desc->layout;
  const Layout& yl = y_desc->layout;
  if (!device_operand(handle, fn, "x", x, xl.span_bytes()) || !device_operand(handle, fn, "y", y, yl.span_bytes()))
    return CUDNN_STATUS_EXECUTION_FAILED;
  const Pool pool{*pool_desc, xl.dim[2], xl.dim[3]};
  const auto* in = static_cast<const float*>(x);
  auto* out = static_cast<float*>(y);
  const Scaling s{scalar(alpha), scalar(beta)};
  for (int64_t n = 0; n < yl.dim[0]; ++n)
    for (int64_t c = 0; c < yl.dim[1]; ++c)
      for (int64_t oh = 0; oh < yl.dim[2]; ++oh)
        for (int64_t ow = 0; ow < yl.dim[3]; ++ow) {
          double value;
          if (pool.is_max()) {
            value = window_max(pool, in, xl, n, c, oh, ow).value;
          } else {
            int64_t r0, r1, c0, c1;
            pool.inside(oh, ow, r0, r1, c0, c1);
            double sum = 0;
            for (int64_t r = r0; r < r1; ++r)
              for (int64_t q = c0; q < c1; ++q) sum += in[xl.at(n, c, r, q)];
            const double count = pool.divisor(r0, r1, c0, c1);
            value = count > 0 ? sum / count : 0.0;
          }
          float& o = out[yl.at(n, c, oh, ow)];
          o = blend(value, s.alpha, s.beta, o);
        }
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnPoolingBackward(cudnnHandle_t handle, const cudnnPoolingDescriptor_t pool_desc, const void* alpha,
                                   const cudnnTensorDescriptor_t y_desc, const void* y,
                                   const cudnnTensorDescriptor_t dy_desc, const void* dy,
                                   const cudnnTensorDescriptor_t x_desc, const void* x, const void* beta,
                                   const cudnnTensorDescriptor_t dx_desc, void* dx) {
  const char* fn = "cudnnPoolingBackward";
  if (auto s = check(fn, handle, pool_desc, x_desc, y_desc)) return s;
  if (!dy_desc || !dx_desc || !dy_desc->set || !dx_desc->set)
    return fail(CUDNN_STATUS_BAD_PARAM, fn, "dyDesc or dxDesc is NULL or was never set");
  if (!same_dims(y_desc, dy_desc) || !same_dims(x_desc, dx_desc))
    return fail(CUDNN_STATUS_BAD_PARAM, fn, "dy must match y, and dx x, in dimensions and data type");
  if (!alpha || !beta || !y || !dy || !x || !dx) return fail(CUDNN_STATUS_BAD_PARAM, fn, "a NULL data or scaling pointer");
  if (!host_scalars(fn, alpha, beta)) return fail(CUDNN_STATUS_BAD_PARAM, fn, "alpha or beta in device memory");
  const Layout& xl = x_desc->layout;
  const Layout& dyl = dy_desc->layout;
  const Layout& dxl = dx_desc->layout;
  if (!device_operand(handle, fn, "y", y, y_desc->layout.span_bytes()) ||
      !device_operand(handle, fn, "dy", dy, dyl.span_bytes()) || !device_operand(handle, fn, "x", x, xl.span_bytes()) ||
      !device_operand(handle, fn, "dx", dx, dxl.span_bytes()))
    return CUDNN_STATUS_EXECUTION_FAILED;
  const Pool pool{*pool_desc, xl.dim[2], xl.dim[3]};
  const auto* in = static_cast<const float*>(x);
  const auto* grad = static_cast<const float*>(dy);
  // Gradients gathered per x element (dense N, C, H, W) before the blend into dx.
  const Layout acc_layout{{xl.dim[0], xl.dim[1], xl.dim[2], xl.dim[3]},
                          {xl.dim[1] * xl.dim[2] * xl.dim[3], xl.dim[2] * xl.dim[3], xl.dim[3], 1}};
  std::vector<double> acc(static_cast<size_t>(xl.elements()), 0.0);
  for (int64_t n = 0; n < dyl.dim[0]; ++n)
    for (int64_t c = 0; c < dyl.dim[1]; ++c)
      for (int64_t oh = 0; oh < dyl.dim[2]; ++oh)
        for (int64_t ow = 0; ow < dyl.dim[3]; ++ow) {
          const double g = grad[dyl.at(n, c, oh, ow)];
          int64_t r0, r1, c0, c1;
          pool.inside(oh, ow, r0, r1, c0, c1);
          if (pool.is_max()) {
            const Pick pick = window_max(pool, in, xl, n, c, oh, ow);
            if (pick.r >= 0) acc[acc_layout.at(n, c, pick.r, pick.q)] += g;
          } else {
            const double count = pool.divisor(r0, r1, c0, c1);
            if (count <= 0) continue;
            for (int64_t r = r0; r < r1; ++r)
              for (int64_t q = c0; q < c1; ++q) acc[acc_layout.at(n, c, r, q)] += g / count;
          }
        }
  auto* out = static_cast<float*>(dx);
  const Scaling s{scalar(alpha), scalar(beta)};
  for (int64_t n = 0; n < xl.dim[0]; ++n)
    for (int64_t c = 0; c < xl.dim[1]; ++c)
      for (int64_t r = 0; r < xl.dim[2]; ++r)
        for (int64_t q = 0; q < xl.dim[3]; ++q) {
          float& o = out[dxl.at(n, c, r, q)];
          o = blend(acc[acc_layout.at(n, c, r, q)], s.alpha, s.beta, o);
        }
  return CUDNN_STATUS_SUCCESS;
}

}  // extern "C"
