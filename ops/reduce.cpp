#include "ops/reduce.h"

#include "core/autograd.h"
#include "ops/elementwise.h"

namespace curec {

Tensor reduce_sum_3d(const Tensor& x, int64_t outer, int64_t d, int64_t inner) {
  check_dtype("sum", x, DType::f32, "input");
  Tensor out = Tensor::empty({outer, inner}, DType::f32, x.device());
  const float* px = x.data<float>();
  float* po = out.data<float>();
  if (x.is_cuda()) {
#if CUREC_WITH_CUDA
    cuda::reduce_sum(px, po, outer, d, inner, x.device().index);
    return out;
#endif
  }
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      double acc = 0;
      for (int64_t j = 0; j < d; ++j) acc += px[(o * d + j) * inner + i];
      po[o * inner + i] = static_cast<float>(acc);
    }
  return out;
}

Tensor expand_3d(const Tensor& g, int64_t outer, int64_t d, int64_t inner, const Shape& out_shape) {
  Tensor out = Tensor::empty(out_shape, DType::f32, g.device());
  const float* pg = g.data<float>();
  float* po = out.data<float>();
  if (g.is_cuda()) {
#if CUREC_WITH_CUDA
    cuda::expand(pg, po, outer, d, inner, g.device().index);
    return out;
#endif
  }
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t j = 0; j < d; ++j)
      for (int64_t i = 0; i < inner; ++i) po[(o * d + j) * inner + i] = pg[o * inner + i];
  return out;
}

namespace {

Tensor sum_impl(const Tensor& x, int64_t dim, bool keepdim, float scale, const char* name) {
  check_defined(name, x, "input");
  int64_t nd = x.dim();
  Shape out_shape;
  int64_t outer = 1, d = x.numel(), inner = 1;
  if (dim != INT64_MIN) {
    if (dim < 0) dim += nd;
    CUREC_CHECK(dim >= 0 && dim < nd, name, ": dim ", dim, " out of range for ", x.str());
    outer = 1, inner = 1;
    for (int64_t i = 0; i < dim; ++i) outer *= x.size(i);
    for (int64_t i = dim + 1; i < nd; ++i) inner *= x.size(i);
    d = x.size(dim);
    for (int64_t i = 0; i < nd; ++i) {
      if (i != dim) out_shape.push_back(x.size(i));
      else if (keepdim) out_shape.push_back(1);
    }
  }
  Tensor out = reduce_sum_3d(x, outer, d, inner).view(out_shape);
  if (scale != 1.0f) {
    NoGradGuard ng;
    out = out * scale;
  }
  Shape in_shape = x.shape();
  return record(out, name, {x}, [=](const Tensor& g) -> std::vector<Grad> {
    Tensor e = expand_3d(g, outer, d, inner, in_shape);
    return {scale != 1.0f ? e * scale : e};
  });
}

}  // namespace

Tensor sum(const Tensor& x) { return sum_impl(x, INT64_MIN, false, 1.0f, "sum"); }
Tensor sum(const Tensor& x, int64_t dim, bool keepdim) { return sum_impl(x, dim, keepdim, 1.0f, "sum"); }
Tensor mean(const Tensor& x) {
  CUREC_CHECK(x.numel() > 0, "mean of an empty tensor ", x.str());
  return sum_impl(x, INT64_MIN, false, 1.0f / static_cast<float>(x.numel()), "mean");
}
Tensor mean(const Tensor& x, int64_t dim, bool keepdim) {
  int64_t d = x.size(dim);
  CUREC_CHECK(d > 0, "mean over an empty dimension of ", x.str());
  return sum_impl(x, dim, keepdim, 1.0f / static_cast<float>(d), "mean");
}

}  // namespace curec
