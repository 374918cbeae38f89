#include "ops/shape.h"

#include "core/autograd.h"
#include "core/checked.h"

namespace curec {
namespace {

Tensor view_op(const Tensor& x, const Shape& shape, const char* name) {
  Tensor out = x.view(shape);
  Shape in_shape = x.shape();
  return record(out, name, {x}, [in_shape](const Tensor& g) -> std::vector<Grad> { return {g.view(in_shape)}; });
}

// Maps a possibly negative dim into [0, rank) or fails naming the op and the tensor.
int64_t wrap_dim(const char* op, int64_t dim, int64_t rank, const Tensor& x) {
  int64_t d = dim < 0 ? dim + rank : dim;
  CUREC_CHECK(d >= 0 && d < rank, op, ": dim ", dim, " out of range for ", x.str(), " (valid: ", -rank, " to ",
              rank - 1, ")");
  return d;
}

}  // namespace

Tensor reshape(const Tensor& x, const Shape& shape) {
  check_defined("reshape", x, "input");
  Shape s = shape;
  int64_t inferred = -1, known = 1;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == -1) {
      CUREC_CHECK(inferred < 0, "reshape: more than one -1 in ", shape_str(shape), " for ", x.str());
      inferred = static_cast<int64_t>(i);
    } else {
      CUREC_CHECK(s[i] >= 0, "reshape: negative size in ", shape_str(shape), " for ", x.str());
      known = checked_mul(known, s[i], [&] { return "reshape to " + shape_str(shape); });
    }
  }
  if (inferred >= 0) {
    CUREC_CHECK(known > 0 && x.numel() % known == 0, "reshape: cannot infer the -1 in ", shape_str(shape), " for ",
                x.str(), ": ", x.numel(), " elements do not divide into blocks of ", known);
    s[inferred] = x.numel() / known;
  }
  CUREC_CHECK(shape_numel(s) == x.numel(), "reshape: cannot reshape ", x.str(), " (", x.numel(), " elements) to ",
              shape_str(shape), " (", shape_numel(s), " elements)");
  return view_op(x, s, "reshape");
}

Tensor squeeze(const Tensor& x, int64_t dim) {
  check_defined("squeeze", x, "input");
  int64_t d = wrap_dim("squeeze", dim, x.dim(), x);
  CUREC_CHECK(x.size(d) == 1, "squeeze: dim ", dim, " of ", x.str(), " has size ", x.size(d),
              ", not 1; only a size-1 dim can be removed");
  Shape s = x.shape();
  s.erase(s.begin() + d);
  return view_op(x, s, "squeeze");
}

Tensor unsqueeze(const Tensor& x, int64_t dim) {
  check_defined("unsqueeze", x, "input");
  int64_t d = wrap_dim("unsqueeze", dim, x.dim() + 1, x);
  Shape s = x.shape();
  s.insert(s.begin() + d, 1);
  return view_op(x, s, "unsqueeze");
}

Tensor flatten(const Tensor& x, int64_t start_dim) {
  check_defined("flatten", x, "input");
  int64_t d = wrap_dim("flatten", start_dim, x.dim(), x);
  Shape s(x.shape().begin(), x.shape().begin() + d);
  int64_t merged = 1;
  for (int64_t i = d; i < x.dim(); ++i) merged *= x.size(i);
  s.push_back(merged);
  return view_op(x, s, "flatten");
}

}  // namespace curec
