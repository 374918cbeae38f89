#include "ops/reduce.h"

#include <algorithm>
#include <vector>

#include "core/autograd.h"
#include "core/dispatch.h"
#include "core/parallel.h"
#include "ops/elementwise.h"

namespace curec {

namespace {

// A long reduction is summed in pieces of this many elements, each into its own double, and the
// pieces are added in order: the result is a function of the shape alone, whatever the thread count.
constexpr int64_t kSumPiece = int64_t{1} << 16;

// acc[i] = sum over j in [j0, j1) of x[j, i], in double, j ascending from 0.0.
void sum_rows(const float* px, int64_t inner, int64_t j0, int64_t j1, double* acc) {
  for (int64_t i = 0; i < inner; ++i) acc[i] = 0.0;
  if (inner == 1) {
    double a = 0;
    for (int64_t j = j0; j < j1; ++j) a += px[j];
    acc[0] = a;
    return;
  }
  for (int64_t j = j0; j < j1; ++j) {
    const float* row = px + j * inner;
    for (int64_t i = 0; i < inner; ++i) acc[i] += row[i];
  }
}

void reduce_sum_cpu(const float* px, float* po, int64_t outer, int64_t d, int64_t inner) {
  const int64_t piece_rows = std::max<int64_t>(1, kSumPiece / std::max<int64_t>(inner, 1));
  const int64_t pieces = (d + piece_rows - 1) / piece_rows;
  if (pieces <= 1) {  // every output in one pass; outputs split over the threads
    const int64_t grain = std::max<int64_t>(1, kCpuGrain / std::max<int64_t>(d * inner, 1));
    parallel_for(0, outer, grain, [&](int64_t b, int64_t e) {
      std::vector<double> acc(static_cast<size_t>(inner));
      for (int64_t o = b; o < e; ++o) {
        sum_rows(px + o * d * inner, inner, 0, d, acc.data());
        for (int64_t i = 0; i < inner; ++i) po[o * inner + i] = static_cast<float>(acc[i]);
      }
    });
    return;
  }
  std::vector<double> partial(static_cast<size_t>(outer * pieces * inner));
  parallel_for(0, outer * pieces, 1, [&](int64_t b, int64_t e) {
    for (int64_t t = b; t < e; ++t) {
      const int64_t o = t / pieces, j0 = t % pieces * piece_rows;
      sum_rows(px + o * d * inner, inner, j0, std::min(d, j0 + piece_rows), partial.data() + t * inner);
    }
  });
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      double a = 0;
      for (int64_t p = 0; p < pieces; ++p) a += partial[static_cast<size_t>((o * pieces + p) * inner + i)];
      po[o * inner + i] = static_cast<float>(a);
    }
}

}  // namespace

Tensor reduce_sum_3d(const Tensor& x, int64_t outer, int64_t d, int64_t inner) {
  check_dtype("sum", x, DType::f32, "input");
  Tensor out = Tensor::empty({outer, inner}, DType::f32, x.device());
  const float* px = x.data<float>();
  float* po = out.data<float>();
  dispatch(
      "sum", x.device(), [&] { reduce_sum_cpu(px, po, outer, d, inner); },
      [&](int dev) { cuda::reduce_sum(px, po, outer, d, inner, dev); });
  return out;
}

Tensor expand_3d(const Tensor& g, int64_t outer, int64_t d, int64_t inner, const Shape& out_shape) {
  Tensor out = Tensor::empty(out_shape, DType::f32, g.device());
  const float* pg = g.data<float>();
  float* po = out.data<float>();
  dispatch(
      "sum backward", g.device(),
      [&] {
        // Over the output's rows r = o * d + j, each a copy of g's row o.
        const int64_t grain = std::max<int64_t>(1, kCpuGrain / std::max<int64_t>(inner, 1));
        parallel_for(0, outer * d, grain, [&](int64_t b, int64_t e) {
          int64_t o = b / d, j = b % d;
          for (int64_t r = b; r < e; ++r) {
            float* dst = po + r * inner;
            if (inner == 1) dst[0] = pg[o];
            else std::copy(pg + o * inner, pg + (o + 1) * inner, dst);
            if (++j == d) j = 0, ++o;
          }
        });
      },
      [&](int dev) { cuda::expand(pg, po, outer, d, inner, dev); });
  return out;
}

namespace {

Tensor sum_impl(const Tensor& x, int64_t dim, bool keepdim, float scale, const char* name) {
  check_defined(name, x, "input");
  int64_t nd = x.dim();
  Shape out_shape;
  int64_t outer = 1, d = x.numel(), inner = 1;
  if (dim != INT64_MIN) {
    CUREC_CHECK(dim >= -nd && dim < nd, name, ": dim ", dim, " out of range for ", x.str(), " (valid: ", -nd, " to ",
                nd - 1, ")");
    if (dim < 0) dim += nd;
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
  check_defined("mean", x, "input");
  CUREC_CHECK(dim >= -x.dim() && dim < x.dim(), "mean: dim ", dim, " out of range for ", x.str(), " (valid: ",
              -x.dim(), " to ", x.dim() - 1, ")");
  int64_t d = x.size(dim);
  CUREC_CHECK(d > 0, "mean over an empty dimension of ", x.str());
  return sum_impl(x, dim, keepdim, 1.0f / static_cast<float>(d), "mean");
}

}  // namespace curec
