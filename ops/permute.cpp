#include "ops/permute.h"

#include <algorithm>

#include "core/autograd.h"
#include "core/dispatch.h"
#include "core/parallel.h"

namespace curec {
namespace {

// dims with negatives wrapped, checked to be a permutation of x's dims.
std::vector<int64_t> checked_order(const Tensor& x, const std::vector<int64_t>& dims) {
  const int64_t rank = x.dim();
  auto order_str = [&] {
    std::string s = "(";
    for (size_t i = 0; i < dims.size(); ++i) s += (i ? ", " : "") + std::to_string(dims[i]);
    return s + ")";
  };
  CUREC_CHECK(rank <= 4, "permute: ", x.str(), " has more than 4 dims; reshape it to at most 4 first");
  CUREC_CHECK(static_cast<int64_t>(dims.size()) == rank, "permute: the order ", order_str(), " names ", dims.size(),
              " dims but ", x.str(), " has ", rank, "; name every dim once");
  std::vector<int64_t> order(dims.size());
  std::vector<bool> seen(dims.size(), false);
  for (size_t i = 0; i < dims.size(); ++i) {
    int64_t d = dims[i] < 0 ? dims[i] + rank : dims[i];
    CUREC_CHECK(d >= 0 && d < rank, "permute: dim ", dims[i], " in ", order_str(), " is out of range for ", x.str(),
                " (valid: ", -rank, " to ", rank - 1, ")");
    CUREC_CHECK(!seen[d], "permute: dim ", dims[i], " appears twice in ", order_str(), "; name every dim once");
    seen[d] = true;
    order[i] = d;
  }
  return order;
}

Tensor permute_checked(const Tensor& x, const std::vector<int64_t>& order) {
  const int64_t rank = x.dim();
  Shape out_shape(order.size());
  std::vector<int64_t> in_stride(order.size());
  for (int64_t d = rank - 1, step = 1; d >= 0; --d) in_stride[d] = step, step *= x.size(d);
  PermuteIndex p{};
  for (int d = 0; d < 4; ++d) p.size[d] = 1, p.stride[d] = 0;
  for (int64_t i = 0; i < rank; ++i) {
    out_shape[i] = x.size(order[i]);
    p.size[4 - rank + i] = out_shape[i];
    p.stride[4 - rank + i] = in_stride[order[i]];
  }
  Tensor y = Tensor::empty(out_shape, DType::f32, x.device());
  const int64_t n = y.numel();
  const float* px = x.data<float>();
  float* py = y.data<float>();
  dispatch(
      "permute", x.device(),
      [&] {
        if (n == 0) return;
        // By output rows: the row's first input offset once, then a fixed step along it.
        const int64_t cols = p.size[3], step = p.stride[3];
        parallel_for(0, n / cols, std::max<int64_t>(1, kCpuGrain / cols), [&](int64_t rb, int64_t re) {
          for (int64_t r = rb; r < re; ++r) {
            const float* src = px + permute_offset(p, r * cols);
            float* dst = py + r * cols;
            for (int64_t c = 0; c < cols; ++c) dst[c] = src[c * step];
          }
        });
      },
      [&](int dev) { cuda::permute(px, py, n, p, dev); });
  std::vector<int64_t> inverse(order.size());
  for (size_t i = 0; i < order.size(); ++i) inverse[order[i]] = static_cast<int64_t>(i);
  return record(y, "permute", {x}, [inverse](const Tensor& g) -> std::vector<Grad> {
    return {permute_checked(g, inverse)};
  });
}

}  // namespace

Tensor permute(const Tensor& x, const std::vector<int64_t>& dims) {
  check_defined("permute", x, "input");
  check_dtype("permute", x, DType::f32, "input");
  return permute_checked(x, checked_order(x, dims));
}

Tensor transpose(const Tensor& x, int64_t d0, int64_t d1) {
  check_defined("transpose", x, "input");
  const int64_t rank = x.dim();
  for (int64_t d : {d0, d1})
    CUREC_CHECK(d >= -rank && d < rank, "transpose: dim ", d, " is out of range for ", x.str(), " (valid: ", -rank,
                " to ", rank - 1, ")");
  std::vector<int64_t> dims(static_cast<size_t>(rank));
  for (int64_t i = 0; i < rank; ++i) dims[i] = i;
  std::swap(dims[(d0 + rank) % rank], dims[(d1 + rank) % rank]);
  return permute(x, dims);
}

}  // namespace curec
