#include "ops/conv2d.h"

#include <algorithm>
#include <climits>
#include <vector>

#include "core/autograd.h"
#include "core/checked.h"
#include "core/dispatch.h"
#include "core/parallel.h"
#include "ops/blas.h"

namespace curec {
namespace {

Conv2dShape conv_shape(const Tensor& x, const Tensor& weight, const Tensor& bias) {
  check_defined("conv2d", x, "x");
  check_defined("conv2d", weight, "weight");
  check_dtype("conv2d", x, DType::f32, "x");
  check_dtype("conv2d", weight, DType::f32, "weight");
  check_same_device("conv2d", x, weight);
  CUREC_CHECK(x.dim() == 4, "conv2d: x must be [N, C, H, W], got ", x.str(),
              "; add a channel dimension with view() for a single-channel image");
  CUREC_CHECK(weight.dim() == 4, "conv2d: weight must be [O, C, kh, kw], got ", weight.str());
  Conv2dShape s{x.size(0), x.size(1), x.size(2), x.size(3), weight.size(0), weight.size(2), weight.size(3), 0, 0};
  CUREC_CHECK(weight.size(1) == s.c, "conv2d: weight ", weight.str(), " expects ", weight.size(1),
              " input channels but x ", x.str(), " has ", s.c);
  CUREC_CHECK(s.c > 0 && s.o > 0 && s.kh > 0 && s.kw > 0, "conv2d: empty channels or kernel: x ", x.str(),
              ", weight ", weight.str());
  CUREC_CHECK(s.kh <= s.h && s.kw <= s.w, "conv2d: kernel ", s.kh, "x", s.kw, " is larger than the input ", s.h,
              "x", s.w, " (x ", x.str(), "); without padding the kernel must fit in the input");
  s.oh = s.h - s.kh + 1;
  s.ow = s.w - s.kw + 1;
  if (bias.defined()) {
    check_dtype("conv2d", bias, DType::f32, "bias");
    check_same_device("conv2d", x, bias);
    CUREC_CHECK(bias.dim() == 1 && bias.size(0) == s.o, "conv2d: bias must be [", s.o, "] (one per filter), got ",
                bias.str());
  }
  // cuDNN and CBLAS index with int. The output and patch-matrix sizes come from no existing
  // tensor, so their products are checked.
  auto size_of = [&](std::initializer_list<int64_t> dims) {
    int64_t n = 1;
    for (int64_t d : dims)
      n = checked_mul(n, d, [&] { return "conv2d: output size for x " + x.str() + ", weight " + weight.str(); });
    return n;
  };
  CUREC_CHECK(x.numel() <= INT_MAX && size_of({s.n, s.o, s.oh, s.ow}) <= INT_MAX &&
                  size_of({s.c, s.kh, s.kw, s.oh, s.ow}) <= INT_MAX,
              "conv2d: tensors too large for 32-bit indexing: x ", x.str(), ", weight ", weight.str(),
              "; split the batch");
  return s;
}

// One sample's patches as a [C*kh*kw, oh*ow] matrix, so the convolution is one matrix product.
void im2col(const Conv2dShape& s, const float* x, float* col) {
  const int64_t pixels = s.oh * s.ow;
  for (int64_t c = 0; c < s.c; ++c)
    for (int64_t i = 0; i < s.kh; ++i)
      for (int64_t j = 0; j < s.kw; ++j) {
        float* row = col + ((c * s.kh + i) * s.kw + j) * pixels;
        for (int64_t p = 0; p < s.oh; ++p)
          for (int64_t q = 0; q < s.ow; ++q) row[p * s.ow + q] = x[(c * s.h + p + i) * s.w + q + j];
      }
}

// The adjoint of im2col: adds each patch entry back onto the pixel it came from.
void col2im_add(const Conv2dShape& s, const float* col, float* x) {
  const int64_t pixels = s.oh * s.ow;
  for (int64_t c = 0; c < s.c; ++c)
    for (int64_t i = 0; i < s.kh; ++i)
      for (int64_t j = 0; j < s.kw; ++j) {
        const float* row = col + ((c * s.kh + i) * s.kw + j) * pixels;
        for (int64_t p = 0; p < s.oh; ++p)
          for (int64_t q = 0; q < s.ow; ++q) x[(c * s.h + p + i) * s.w + q + j] += row[p * s.ow + q];
      }
}

// Samples are independent: spread over the threads, each with its own patch matrix.
void forward_cpu(const Conv2dShape& s, const float* x, const float* w, const float* b, float* y) {
  const int64_t k = s.c * s.kh * s.kw, pixels = s.oh * s.ow;
  const int64_t grain = std::max<int64_t>(1, kCpuGrain / std::max<int64_t>(k * pixels * s.o, 1));
  parallel_for(0, s.n, grain, [&](int64_t n0, int64_t n1) {
    std::vector<float> col(static_cast<size_t>(k * pixels));
    for (int64_t n = n0; n < n1; ++n) {
      im2col(s, x + n * s.c * s.h * s.w, col.data());
      float* yn = y + n * s.o * pixels;
      cpu_gemm(false, false, s.o, pixels, k, w, k, col.data(), pixels, 0.0f, yn, pixels);
      if (b)
        for (int64_t f = 0; f < s.o; ++f)
          for (int64_t p = 0; p < pixels; ++p) yn[f * pixels + p] += b[f];
    }
  });
}

// dx = sum over filters of weight^T dy, scattered back through col2im; samples in parallel.
void backward_data_cpu(const Conv2dShape& s, const float* w, const float* dy, float* dx) {
  const int64_t k = s.c * s.kh * s.kw, pixels = s.oh * s.ow;
  const int64_t grain = std::max<int64_t>(1, kCpuGrain / std::max<int64_t>(k * pixels * s.o, 1));
  parallel_for(0, s.n, grain, [&](int64_t n0, int64_t n1) {
    std::vector<float> dcol(static_cast<size_t>(k * pixels));
    std::fill(dx + n0 * s.c * s.h * s.w, dx + n1 * s.c * s.h * s.w, 0.0f);
    for (int64_t n = n0; n < n1; ++n) {
      cpu_gemm(true, false, k, pixels, s.o, w, k, dy + n * s.o * pixels, pixels, 0.0f, dcol.data(), pixels);
      col2im_add(s, dcol.data(), dx + n * s.c * s.h * s.w);
    }
  });
}

// dweight = sum over samples of dy_n col_n^T.
void backward_filter_cpu(const Conv2dShape& s, const float* x, const float* dy, float* dw) {
  const int k = static_cast<int>(s.c * s.kh * s.kw), pixels = static_cast<int>(s.oh * s.ow);
  const int o = static_cast<int>(s.o);
  std::vector<float> col(static_cast<size_t>(k) * pixels);
  std::fill(dw, dw + s.o * k, 0.0f);
  for (int64_t n = 0; n < s.n; ++n) {
    im2col(s, x + n * s.c * s.h * s.w, col.data());
    cpu_gemm(false, true, o, k, pixels, dy + n * s.o * pixels, pixels, col.data(), pixels, 1.0f, dw, k);
  }
}

void backward_bias_cpu(const Conv2dShape& s, const float* dy, float* db) {
  const int64_t pixels = s.oh * s.ow;
  for (int64_t f = 0; f < s.o; ++f) {
    double acc = 0;
    for (int64_t n = 0; n < s.n; ++n)
      for (int64_t p = 0; p < pixels; ++p) acc += dy[(n * s.o + f) * pixels + p];
    db[f] = static_cast<float>(acc);
  }
}

}  // namespace

Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias) {
  const Conv2dShape s = conv_shape(x, weight, bias);
  Tensor y = Tensor::empty({s.n, s.o, s.oh, s.ow}, DType::f32, x.device());
  const float* pb = bias.defined() ? bias.data<float>() : nullptr;
  if (s.n > 0) {
    const float *px = x.data<float>(), *pw = weight.data<float>();
    float* py = y.data<float>();
    dispatch(
        "conv2d", x.device(), [&] { forward_cpu(s, px, pw, pb, py); },
        [&](int dev) { cuda::conv2d_forward(s, px, pw, pb, py, dev); });
  }
  return record(y, "conv2d", {x, weight, bias}, [=](const Tensor& g) -> std::vector<Grad> {
    const bool need_x = x.requires_grad(), need_w = weight.requires_grad();
    const bool need_b = bias.defined() && bias.requires_grad();
    // An empty batch contributes nothing: zero filter and bias gradients.
    Tensor dx = need_x ? Tensor::empty(x.shape(), DType::f32, g.device()) : Tensor();
    Tensor dw = need_w ? Tensor::zeros(weight.shape(), DType::f32, g.device()) : Tensor();
    Tensor db = need_b ? Tensor::zeros(bias.shape(), DType::f32, g.device()) : Tensor();
    if (s.n > 0) {
      const float* pg = g.data<float>();
      dispatch(
          "conv2d", g.device(),
          [&] {
            if (need_x) backward_data_cpu(s, weight.data<float>(), pg, dx.data<float>());
            if (need_w) backward_filter_cpu(s, x.data<float>(), pg, dw.data<float>());
            if (need_b) backward_bias_cpu(s, pg, db.data<float>());
          },
          [&](int dev) {
            if (need_x) cuda::conv2d_backward_data(s, weight.data<float>(), pg, dx.data<float>(), dev);
            if (need_w) cuda::conv2d_backward_filter(s, x.data<float>(), pg, dw.data<float>(), dev);
            if (need_b) cuda::conv2d_backward_bias(s, pg, db.data<float>(), dev);
          });
    }
    return {need_x ? Grad(dx) : Grad(), need_w ? Grad(dw) : Grad(), need_b ? Grad(db) : Grad()};
  });
}

}  // namespace curec
