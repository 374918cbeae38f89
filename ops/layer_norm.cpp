#include "ops/layer_norm.h"

#include <algorithm>
#include <cmath>

#include "core/autograd.h"
#include "core/dispatch.h"
#include "core/parallel.h"
#include "ops/reduce.h"

namespace curec {
namespace {

namespace ln = layer_norm_math;

int64_t row_grain(int64_t cols) { return std::max<int64_t>(1, kCpuGrain / 8 / std::max<int64_t>(1, cols)); }

void forward_cpu(const float* x, const float* w, const float* b, float eps, float* y, float* mean, float* rstd,
                 int64_t rows, int64_t cols) {
  parallel_for(0, rows, row_grain(cols), [&](int64_t first, int64_t last) {
    for (int64_t r = first; r < last; ++r) {
      const float* xr = x + r * cols;
      float s = 0.0f;
      for (int64_t j = 0; j < cols; ++j) s += xr[j];
      const float mu = s / static_cast<float>(cols);
      float v = 0.0f;
      for (int64_t j = 0; j < cols; ++j) v += (xr[j] - mu) * (xr[j] - mu);
      const float rs = 1.0f / std::sqrt(v / static_cast<float>(cols) + eps);
      for (int64_t j = 0; j < cols; ++j) y[r * cols + j] = ln::affine((xr[j] - mu) * rs, w, b, j);
      mean[r] = mu;
      rstd[r] = rs;
    }
  });
}

void backward_cpu(const float* x, const float* w, const float* g, const float* mean, const float* rstd, float* dx,
                  float* g_xhat, int64_t rows, int64_t cols) {
  parallel_for(0, rows, row_grain(cols), [&](int64_t first, int64_t last) {
    for (int64_t r = first; r < last; ++r) {
      const float *xr = x + r * cols, *gr = g + r * cols;
      float a = 0.0f, c = 0.0f;
      for (int64_t j = 0; j < cols; ++j) {
        const float xhat = (xr[j] - mean[r]) * rstd[r], dxhat = gr[j] * (w ? w[j] : 1.0f);
        a += dxhat;
        c += dxhat * xhat;
        if (g_xhat) g_xhat[r * cols + j] = gr[j] * xhat;
      }
      a /= static_cast<float>(cols);
      c /= static_cast<float>(cols);
      if (dx)
        for (int64_t j = 0; j < cols; ++j)
          dx[r * cols + j] = ln::grad((xr[j] - mean[r]) * rstd[r], gr[j] * (w ? w[j] : 1.0f), a, c, rstd[r]);
    }
  });
}

void check_affine(const Tensor& x, const Tensor& p, const char* name) {
  if (!p.defined()) return;
  check_dtype("layer_norm", p, DType::f32, name);
  check_same_device("layer_norm", x, p);
  CUREC_CHECK(p.dim() == 1 && p.size(0) == x.size(-1), "layer_norm: ", name, " ", p.str(), " must be [",
              x.size(-1), "], one value per entry of the input's last dimension ", x.str());
}

}  // namespace

Tensor layer_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, float eps) {
  const char* op = "layer_norm";
  check_defined(op, x, "input");
  check_dtype(op, x, DType::f32, "input");
  CUREC_CHECK(x.dim() >= 1 && x.size(-1) > 0, op, ": input ", x.str(), " needs a non-empty last dimension");
  CUREC_CHECK(eps >= 0.0f && std::isfinite(eps), op, ": eps = ", eps, " must be finite and non-negative");
  check_affine(x, weight, "weight");
  check_affine(x, bias, "bias");
  const int64_t cols = x.size(-1), rows = x.numel() / cols;
  const float* pw = weight.defined() ? weight.data<float>() : nullptr;
  const float* pb = bias.defined() ? bias.data<float>() : nullptr;
  Tensor y = Tensor::empty(x.shape(), DType::f32, x.device());
  Tensor stats = Tensor::empty({2, rows}, DType::f32, x.device());  // each row's mean, then its 1 / std
  float *mean = stats.data<float>(), *rstd = mean + rows;
  dispatch(
      op, x.device(), [&] { forward_cpu(x.data<float>(), pw, pb, eps, y.data<float>(), mean, rstd, rows, cols); },
      [&](int dev) { cuda::layer_norm_forward(x.data<float>(), pw, pb, eps, y.data<float>(), mean, rstd, rows, cols, dev); });
  return record(y, op, {x, weight, bias}, [=](const Tensor& g) -> std::vector<Grad> {
    const bool need_x = x.requires_grad(), need_w = weight.defined() && weight.requires_grad();
    const bool need_b = bias.defined() && bias.requires_grad();
    Tensor dx = need_x ? Tensor::empty(x.shape(), DType::f32, x.device()) : Tensor();
    Tensor g_xhat = need_w ? Tensor::empty({rows, cols}, DType::f32, x.device()) : Tensor();
    float* pdx = need_x ? dx.data<float>() : nullptr;
    float* pgx = need_w ? g_xhat.data<float>() : nullptr;
    const float* ps = stats.data<float>();
    const float* pw2 = weight.defined() ? weight.data<float>() : nullptr;
    dispatch(
        op, x.device(), [&] { backward_cpu(x.data<float>(), pw2, g.data<float>(), ps, ps + rows, pdx, pgx, rows, cols); },
        [&](int dev) {
          cuda::layer_norm_backward(x.data<float>(), pw2, g.data<float>(), ps, ps + rows, pdx, pgx, rows, cols, dev);
        });
    Tensor dw = need_w ? reduce_sum_3d(g_xhat, 1, rows, cols).view({cols}) : Tensor();
    Tensor db = need_b ? reduce_sum_3d(g, 1, rows, cols).view({cols}) : Tensor();
    return {need_x ? Grad(dx) : Grad(), need_w ? Grad(dw) : Grad(), need_b ? Grad(db) : Grad()};
  });
}

}  // namespace curec
