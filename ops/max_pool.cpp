#include "ops/max_pool.h"

#include <algorithm>
#include <climits>

#include <vector>

#include "core/autograd.h"
#include "core/dispatch.h"
#include "ops/max_pool_math.h"

namespace curec {

using max_pool_math::window_argmax;

Tensor max_pool1d(const Tensor& x, int64_t kernel, int64_t stride) {
  check_defined("max_pool1d", x, "x");
  check_dtype("max_pool1d", x, DType::f32, "x");
  CUREC_CHECK(x.dim() == 3, "max_pool1d: x must be [N, C, L], got ", x.str());
  if (stride == 0) stride = kernel;
  const int64_t n = x.size(0), c = x.size(1), length = x.size(2);
  CUREC_CHECK(kernel >= 1 && stride >= 1, "max_pool1d: kernel (", kernel, ") and stride (", stride,
              ") must be positive");
  CUREC_CHECK(kernel <= length, "max_pool1d: kernel ", kernel, " is larger than the sequence length ", length,
              " of x ", x.str(), "; pool with kernel <= L (Caser uses kernel = L)");
  CUREC_CHECK(x.numel() <= INT_MAX, "max_pool1d: x ", x.str(), " too large for 32-bit indexing; split the batch");
  const int64_t out_len = (length - kernel) / stride + 1, rows = n * c;
  Tensor y = Tensor::empty({n, c, out_len}, DType::f32, x.device());
  if (rows > 0) {
    const float* px = x.data<float>();
    float* py = y.data<float>();
    dispatch(
        "max_pool1d", x.device(),
        [&] {
          for (int64_t r = 0; r < rows; ++r)
            for (int64_t j = 0; j < out_len; ++j)
              py[r * out_len + j] = px[r * length + window_argmax(px + r * length, j, kernel, stride)];
        },
        [&](int dev) { cuda::max_pool1d_forward(px, py, n, c, length, kernel, stride, dev); });
  }
  return record(y, "max_pool1d", {x}, [=](const Tensor& g) -> std::vector<Grad> {
    // Every element of dx is written: the gradients of the windows whose first maximum it is,
    // in window order (max_pool_math::gather_grad, the CUDA kernel's arithmetic too).
    Tensor dx = Tensor::empty(x.shape(), DType::f32, g.device());
    if (rows == 0) return {dx};
    const float *px = x.data<float>(), *pg = g.data<float>();
    float* pdx = dx.data<float>();
    dispatch(
        "max_pool1d", g.device(),
        [&] {
          std::vector<int64_t> argmax(static_cast<size_t>(out_len));
          for (int64_t r = 0; r < rows; ++r) {
            for (int64_t j = 0; j < out_len; ++j) argmax[j] = window_argmax(px + r * length, j, kernel, stride);
            for (int64_t t = 0; t < length; ++t)
              pdx[r * length + t] =
                  max_pool_math::gather_grad(argmax.data(), pg + r * out_len, t, kernel, stride, out_len);
          }
        },
        [&](int dev) { cuda::max_pool1d_backward(px, pg, pdx, n, c, length, kernel, stride, dev); });
    return {dx};
  });
}

}  // namespace curec
