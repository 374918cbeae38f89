#include "ops/softmax.h"

#include <algorithm>
#include <cmath>

#include "core/autograd.h"
#include "core/dispatch.h"
#include "core/parallel.h"

namespace curec {

using softmax_math::MaskIndex;

MaskIndex softmax_mask_index(const char* op, const Shape& x, const Shape& mask) {
  const auto xd = static_cast<int64_t>(x.size()), md = static_cast<int64_t>(mask.size());
  CUREC_CHECK(xd >= 1, op, ": input of shape ", shape_str(x), " has no last dimension to normalise over");
  CUREC_CHECK(xd - 1 <= softmax_math::kMaxLeadingDims, op, ": input of shape ", shape_str(x), " has more than ",
              softmax_math::kMaxLeadingDims + 1, " dimensions; reshape it to fewer");
  auto fits = [&](int64_t k) {  // dimension k of x against the mask's aligned one
    const int64_t m = k - (xd - md);
    return m < 0 || mask[m] == x[k] || mask[m] == 1;
  };
  bool ok = md >= 1 && md <= xd;
  for (int64_t k = 0; ok && k < xd; ++k) ok = fits(k);
  CUREC_CHECK(ok, op, ": mask of shape ", shape_str(mask), " does not broadcast against the input ", shape_str(x),
              "; each of its dimensions (aligned at the last) must equal the input's or be 1, e.g. [L, L] or "
              "[B, 1, 1, L] for [B, H, L, L] scores");
  MaskIndex mi;
  mi.ndim = static_cast<int>(xd - 1);
  mi.col_stride = mask[md - 1] == 1 ? 0 : 1;
  int64_t stride = mask[md - 1];  // the mask's own stride at the dimension being visited
  for (int64_t k = xd - 2; k >= 0; --k) {
    const int64_t m = k - (xd - md);
    mi.size[k] = x[k];
    mi.stride[k] = m < 0 || mask[m] == 1 ? 0 : stride;
    if (m >= 0) stride *= mask[m];
  }
  return mi;
}

namespace {

constexpr int64_t kCpuRowGrain = kCpuGrain / 8;  // a row's three passes cost ~8 simple operations

struct Rows {
  int64_t rows, cols;
};
Rows as_rows(const Tensor& x) {
  const int64_t cols = x.size(-1);
  return {cols ? x.numel() / cols : 0, cols};
}

void forward_cpu(const float* x, const float* mask, const MaskIndex& mi, float* y, float* lse, Rows s, bool log) {
  parallel_for(0, s.rows, std::max<int64_t>(1, kCpuRowGrain / std::max<int64_t>(1, s.cols)), [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      const float* xr = x + r * s.cols;
      const float* mr = mask ? mask + mi.row_offset(r) : nullptr;
      float m = softmax_math::kNegInf;
      for (int64_t j = 0; j < s.cols; ++j) m = std::max(m, softmax_math::masked(xr, mr, mi.col_stride, j));
      float sum = 0.0f;
      if (m != softmax_math::kNegInf)
        for (int64_t j = 0; j < s.cols; ++j) sum += std::exp(softmax_math::masked(xr, mr, mi.col_stride, j) - m);
      const float l = m == softmax_math::kNegInf ? m : m + std::log(sum);
      for (int64_t j = 0; j < s.cols; ++j)
        y[r * s.cols + j] = softmax_math::value(softmax_math::masked(xr, mr, mi.col_stride, j), m, sum, l, log);
      lse[r] = l;
    }
  });
}

void backward_cpu(const float* y, const float* g, const float* lse, float* dx, Rows s, bool log) {
  parallel_for(0, s.rows, std::max<int64_t>(1, kCpuRowGrain / std::max<int64_t>(1, s.cols)), [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      const float *yr = y + r * s.cols, *gr = g + r * s.cols;
      float dot = 0.0f;
      for (int64_t j = 0; j < s.cols; ++j) dot += log ? gr[j] : gr[j] * yr[j];
      const bool live = lse[r] != softmax_math::kNegInf;
      for (int64_t j = 0; j < s.cols; ++j) dx[r * s.cols + j] = softmax_math::grad(yr[j], gr[j], dot, log, live);
    }
  });
}

Tensor softmax_op(const char* op, const Tensor& x, const Tensor& mask, bool log) {
  check_defined(op, x, "input");
  check_dtype(op, x, DType::f32, "input");
  MaskIndex mi;
  if (mask.defined()) {
    check_dtype(op, mask, DType::f32, "mask");
    check_same_device(op, x, mask);
    mi = softmax_mask_index(op, x.shape(), mask.shape());
  } else {
    CUREC_CHECK(x.dim() >= 1, op, ": input ", x.str(), " has no last dimension to normalise over");
  }
  const Rows s = as_rows(x);
  Tensor y = Tensor::empty(x.shape(), DType::f32, x.device());
  Tensor lse = Tensor::empty({s.rows}, DType::f32, x.device());
  const float* pm = mask.defined() ? mask.data<float>() : nullptr;
  dispatch(
      op, x.device(), [&] { forward_cpu(x.data<float>(), pm, mi, y.data<float>(), lse.data<float>(), s, log); },
      [&](int dev) {
        cuda::softmax_forward(x.data<float>(), pm, mi, y.data<float>(), lse.data<float>(), s.rows, s.cols, log, dev);
      });
  Tensor saved = y.detach();
  return record(y, op, {x}, [=](const Tensor& g) -> std::vector<Grad> {
    Tensor dx = Tensor::empty(saved.shape(), DType::f32, saved.device());
    dispatch(
        op, saved.device(),
        [&] { backward_cpu(saved.data<float>(), g.data<float>(), lse.data<float>(), dx.data<float>(), s, log); },
        [&](int dev) {
          cuda::softmax_backward(saved.data<float>(), g.data<float>(), lse.data<float>(), dx.data<float>(), s.rows,
                                 s.cols, log, dev);
        });
    return {dx};
  });
}

}  // namespace

Tensor softmax(const Tensor& x, const Tensor& mask) { return softmax_op("softmax", x, mask, false); }
Tensor log_softmax(const Tensor& x, const Tensor& mask) { return softmax_op("log_softmax", x, mask, true); }

}  // namespace curec
