#include "ops/reduce_max.h"

#include <algorithm>

#include "core/autograd.h"
#include "core/dispatch.h"
#include "core/parallel.h"

namespace curec {
namespace {

Tensor max_backward(const Tensor& g, const Tensor& indices, const Shape& in_shape, int64_t outer, int64_t d,
                    int64_t inner) {
  Tensor dx = Tensor::zeros(in_shape, DType::f32, g.device());
  const float* pg = g.data<float>();
  const int64_t* pi = indices.data<int64_t>();
  float* pd = dx.data<float>();
  dispatch(
      "max backward", g.device(),
      [&] {
        parallel_for(0, outer * inner, kCpuGrain, [&](int64_t b, int64_t e) {
          for (int64_t t = b; t < e; ++t) pd[(t / inner * d + pi[t]) * inner + t % inner] = pg[t];
        });
      },
      [&](int dev) { cuda::max_backward(pg, pi, pd, outer, d, inner, dev); });
  return dx;
}

}  // namespace

MaxResult max(const Tensor& x, int64_t dim, bool keepdim) {
  check_defined("max", x, "input");
  check_dtype("max", x, DType::f32, "input");
  const int64_t rank = x.dim();
  CUREC_CHECK(dim >= -rank && dim < rank, "max: dim ", dim, " is out of range for ", x.str(), " (valid: ", -rank,
              " to ", rank - 1, ")");
  if (dim < 0) dim += rank;
  const int64_t d = x.size(dim);
  CUREC_CHECK(d > 0, "max: dim ", dim, " of ", x.str(), " is empty; a maximum needs at least one element");
  int64_t outer = 1, inner = 1;
  Shape out_shape;
  for (int64_t i = 0; i < rank; ++i) {
    if (i < dim) outer *= x.size(i);
    if (i > dim) inner *= x.size(i);
    if (i != dim) out_shape.push_back(x.size(i));
    else if (keepdim) out_shape.push_back(1);
  }
  Tensor values = Tensor::empty(out_shape, DType::f32, x.device());
  Tensor indices = Tensor::empty(out_shape, DType::i64, x.device());
  const float* px = x.data<float>();
  float* pv = values.data<float>();
  int64_t* pi = indices.data<int64_t>();
  dispatch(
      "max", x.device(),
      [&] {
        const int64_t grain = std::max<int64_t>(1, kCpuGrain / d);
        parallel_for(0, outer * inner, grain, [&](int64_t b, int64_t e) {
          for (int64_t t = b; t < e; ++t) {
            const float* col = px + t / inner * d * inner + t % inner;
            pi[t] = strided_argmax(col, d, inner);
            pv[t] = col[pi[t] * inner];
          }
        });
      },
      [&](int dev) { cuda::max_forward(px, pv, pi, outer, d, inner, dev); });
  Shape in_shape = x.shape();
  values = record(values, "max", {x}, [=](const Tensor& g) -> std::vector<Grad> {
    return {max_backward(g, indices, in_shape, outer, d, inner)};
  });
  return {values, indices};
}

}  // namespace curec
