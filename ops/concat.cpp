#include "ops/concat.h"

#include <cstring>

#include "core/autograd.h"
#include "core/dispatch.h"

namespace curec {
namespace {

int64_t wrap_dim(const char* op, int64_t dim, const Tensor& x) {
  int64_t d = dim < 0 ? dim + x.dim() : dim;
  CUREC_CHECK(d >= 0 && d < x.dim(), op, ": dim ", dim, " out of range for ", x.str());
  return d;
}

// x viewed around `dim` as [outer, size(dim), inner].
struct Around {
  int64_t outer = 1, inner = 1;
};
Around around(const Shape& s, int64_t dim) {
  Around a;
  for (int64_t i = 0; i < dim; ++i) a.outer *= s[i];
  for (size_t i = dim + 1; i < s.size(); ++i) a.inner *= s[i];
  return a;
}

}  // namespace

void copy_block(const float* src, int64_t src_stride, float* dst, int64_t dst_stride, int64_t outer, int64_t len,
                Device device) {
  if (outer == 0 || len == 0) return;
  dispatch(
      "copy_block", device,
      [&] {
        for (int64_t o = 0; o < outer; ++o)
          std::memcpy(dst + o * dst_stride, src + o * src_stride, len * sizeof(float));
      },
      [&](int dev) { cuda::copy_block(src, src_stride, dst, dst_stride, outer, len, dev); });
}

Tensor concat(const std::vector<Tensor>& xs, int64_t dim) {
  CUREC_CHECK(!xs.empty(), "concat: no tensors given");
  const Tensor& first = xs[0];
  check_defined("concat", first, "xs[0]");
  int64_t d = wrap_dim("concat", dim, first);
  Shape out_shape = first.shape();
  out_shape[d] = 0;
  for (size_t j = 0; j < xs.size(); ++j) {
    const Tensor& x = xs[j];
    check_defined("concat", x, "an input");
    check_dtype("concat", x, DType::f32, "every input");
    check_same_device("concat", first, x);
    bool fits = x.dim() == first.dim();
    for (int64_t i = 0; fits && i < x.dim(); ++i) fits = i == d || x.size(i) == first.size(i);
    CUREC_CHECK(fits, "concat: input ", j, " ", x.str(), " does not match input 0 ", first.str(),
                " outside dim ", dim, "; all inputs must have the same shape except along dim");
    out_shape[d] += x.size(d);
  }
  Tensor out = Tensor::empty(out_shape, DType::f32, first.device());
  Around ar = around(out_shape, d);
  int64_t out_len = out_shape[d] * ar.inner;
  std::vector<int64_t> offsets;  // where each input's block starts inside an output row
  int64_t offset = 0;
  for (const Tensor& x : xs) {
    int64_t len = x.size(d) * ar.inner;
    copy_block(x.data<float>(), len, out.data<float>() + offset, out_len, ar.outer, len, out.device());
    offsets.push_back(offset);
    offset += len;
  }
  return record(out, "concat", xs, [=](const Tensor& g) -> std::vector<Grad> {
    std::vector<Grad> grads;
    for (size_t j = 0; j < xs.size(); ++j) {
      if (!xs[j].requires_grad()) {
        grads.emplace_back();
        continue;
      }
      Tensor dx = Tensor::empty(xs[j].shape(), DType::f32, g.device());
      int64_t len = xs[j].size(d) * ar.inner;
      copy_block(g.data<float>() + offsets[j], out_len, dx.data<float>(), len, ar.outer, len, g.device());
      grads.emplace_back(dx);
    }
    return grads;
  });
}

Tensor narrow(const Tensor& x, int64_t dim, int64_t start, int64_t length) {
  check_defined("narrow", x, "input");
  check_dtype("narrow", x, DType::f32, "input");
  int64_t d = wrap_dim("narrow", dim, x);
  CUREC_CHECK(start >= 0 && length >= 0 && start + length <= x.size(d), "narrow: [", start, ", ", start + length,
              ") is out of range for dim ", dim, " of ", x.str(), " (size ", x.size(d), ")");
  Shape out_shape = x.shape();
  out_shape[d] = length;
  Tensor out = Tensor::empty(out_shape, DType::f32, x.device());
  Around ar = around(x.shape(), d);
  int64_t in_len = x.size(d) * ar.inner, len = length * ar.inner, offset = start * ar.inner;
  copy_block(x.data<float>() + offset, in_len, out.data<float>(), len, ar.outer, len, x.device());
  Shape in_shape = x.shape();
  return record(out, "narrow", {x}, [=](const Tensor& g) -> std::vector<Grad> {
    Tensor dx = Tensor::zeros(in_shape, DType::f32, g.device());
    copy_block(g.data<float>(), len, dx.data<float>() + offset, in_len, ar.outer, len, g.device());
    return {dx};
  });
}

std::vector<Tensor> split(const Tensor& x, const std::vector<int64_t>& sizes, int64_t dim) {
  check_defined("split", x, "input");
  int64_t d = wrap_dim("split", dim, x);
  int64_t total = 0;
  for (int64_t s : sizes) {
    CUREC_CHECK(s >= 0, "split: negative size ", s, " for ", x.str());
    total += s;
  }
  CUREC_CHECK(total == x.size(d), "split: sizes add up to ", total, " but dim ", dim, " of ", x.str(), " has size ",
              x.size(d));
  std::vector<Tensor> pieces;
  int64_t start = 0;
  for (int64_t s : sizes) {
    pieces.push_back(narrow(x, d, start, s));
    start += s;
  }
  return pieces;
}

}  // namespace curec
