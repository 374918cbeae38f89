#include "ops/elementwise.h"

#include "core/autograd.h"
#include "ops/reduce.h"

namespace curec {
namespace {

const char* unary_name(Unary op) {
  static const char* names[] = {"neg", "exp", "log", "sqrt", "square", "sign", "sigmoid", "tanh", "relu", "elu"};
  return names[static_cast<int>(op)];
}
const char* binary_name(Binary op) {
  static const char* names[] = {"add", "sub", "mul", "div"};
  return names[static_cast<int>(op)];
}

Tensor unary_backward(Unary op, const Tensor& x, const Tensor& y, const Tensor& g, float alpha) {
  Tensor dx = Tensor::empty(x.shape(), DType::f32, x.device());
  int64_t n = x.numel();
  if (x.is_cuda()) {
#if CUREC_WITH_CUDA
    cuda::unary_backward(op, x.data<float>(), y.data<float>(), g.data<float>(), dx.data<float>(), n, alpha,
                         x.device().index);
    return dx;
#endif
  }
  const float *px = x.data<float>(), *py = y.data<float>(), *pg = g.data<float>();
  float* pd = dx.data<float>();
  for (int64_t i = 0; i < n; ++i) pd[i] = ew::unary_grad(op, px[i], py[i], pg[i], alpha);
  return dx;
}

struct Broadcast {
  Shape out_shape;
  ew::Bcast ma = ew::Bcast::full, mb = ew::Bcast::full;
  int64_t cols = 1;
};

bool is_row_of(const Tensor& small, const Shape& big) {
  int64_t cols = big.back();
  return big.size() >= 2 && small.numel() == cols &&
         (small.dim() == 1 || (small.dim() == 2 && small.size(0) == 1));
}

bool is_col_of(const Tensor& small, const Shape& big) {
  if (big.size() < 2) return false;
  Shape lead(big.begin(), big.end() - 1);
  Shape with_one = lead;
  with_one.push_back(1);
  return small.shape() == lead || small.shape() == with_one;
}

Broadcast resolve(Binary op, const Tensor& a, const Tensor& b) {
  Broadcast r;
  if (a.shape() == b.shape()) {
    r.out_shape = a.shape();
  } else if (b.numel() == 1) {
    r.out_shape = a.shape();
    r.mb = ew::Bcast::scalar;
  } else if (a.numel() == 1) {
    r.out_shape = b.shape();
    r.ma = ew::Bcast::scalar;
  } else {
    bool a_big = a.numel() >= b.numel();
    const Tensor& big = a_big ? a : b;
    const Tensor& small = a_big ? b : a;
    ew::Bcast m;
    if (is_row_of(small, big.shape())) m = ew::Bcast::row;
    else if (is_col_of(small, big.shape())) m = ew::Bcast::col;
    else CUREC_FAIL(binary_name(op), ": cannot broadcast ", a.str(), " with ", b.str(),
                    "; operands must have equal shapes, or one must be a scalar, a row [n] / [1, n] or a column [m] / [m, 1]");
    r.out_shape = big.shape();
    (a_big ? r.mb : r.ma) = m;
  }
  r.cols = r.out_shape.empty() ? 1 : r.out_shape.back();
  if (r.cols == 0) r.cols = 1;
  return r;
}

// Sums a full-size gradient back to the operand's broadcast shape.
Tensor reduce_to(const Tensor& full, ew::Bcast m, int64_t cols, const Shape& shape) {
  int64_t n = full.numel();
  switch (m) {
    case ew::Bcast::full: return full;
    case ew::Bcast::scalar: return reduce_sum_3d(full, 1, n, 1).view(shape);
    case ew::Bcast::row: return reduce_sum_3d(full, 1, n / cols, cols).view(shape);
    case ew::Bcast::col: return reduce_sum_3d(full, n / cols, cols, 1).view(shape);
  }
  return full;
}

}  // namespace

Tensor unary(Unary op, const Tensor& x, float alpha) {
  check_defined(unary_name(op), x, "input");
  check_dtype(unary_name(op), x, DType::f32, "input");
  Tensor y = Tensor::empty(x.shape(), DType::f32, x.device());
  int64_t n = x.numel();
  if (x.is_cuda()) {
#if CUREC_WITH_CUDA
    cuda::unary_forward(op, x.data<float>(), y.data<float>(), n, alpha, x.device().index);
#endif
  } else {
    const float* px = x.data<float>();
    float* py = y.data<float>();
    for (int64_t i = 0; i < n; ++i) py[i] = ew::unary(op, px[i], alpha);
  }
  Tensor ys = y.detach();
  return record(y, unary_name(op), {x}, [=](const Tensor& g) -> std::vector<Grad> {
    return {unary_backward(op, x, ys, g, alpha)};
  });
}

Tensor binary(Binary op, const Tensor& a, const Tensor& b) {
  const char* name = binary_name(op);
  check_defined(name, a, "a");
  check_defined(name, b, "b");
  check_dtype(name, a, DType::f32, "a");
  check_dtype(name, b, DType::f32, "b");
  check_same_device(name, a, b);
  Broadcast bc = resolve(op, a, b);
  Tensor out = Tensor::empty(bc.out_shape, DType::f32, a.device());
  int64_t n = out.numel();
  if (a.is_cuda()) {
#if CUREC_WITH_CUDA
    cuda::binary_forward(op, a.data<float>(), bc.ma, b.data<float>(), bc.mb, out.data<float>(), n, bc.cols,
                         a.device().index);
#endif
  } else {
    const float *pa = a.data<float>(), *pb = b.data<float>();
    float* po = out.data<float>();
    for (int64_t i = 0; i < n; ++i)
      po[i] = ew::binary(op, pa[ew::bcast_index(bc.ma, i, bc.cols)], pb[ew::bcast_index(bc.mb, i, bc.cols)]);
  }
  return record(out, name, {a, b}, [=](const Tensor& g) -> std::vector<Grad> {
    bool need_a = a.requires_grad(), need_b = b.requires_grad();
    Tensor da = need_a ? Tensor::empty(bc.out_shape, DType::f32, g.device()) : Tensor();
    Tensor db = need_b ? Tensor::empty(bc.out_shape, DType::f32, g.device()) : Tensor();
    float* pda = need_a ? da.data<float>() : nullptr;
    float* pdb = need_b ? db.data<float>() : nullptr;
    if (g.is_cuda()) {
#if CUREC_WITH_CUDA
      cuda::binary_backward(op, a.data<float>(), bc.ma, b.data<float>(), bc.mb, g.data<float>(), pda, pdb, n,
                            bc.cols, g.device().index);
#endif
    } else {
      const float *pa = a.data<float>(), *pb = b.data<float>(), *pg = g.data<float>();
      for (int64_t i = 0; i < n; ++i) {
        float va = pa[ew::bcast_index(bc.ma, i, bc.cols)], vb = pb[ew::bcast_index(bc.mb, i, bc.cols)];
        if (pda) pda[i] = ew::binary_grad_a(op, va, vb, pg[i]);
        if (pdb) pdb[i] = ew::binary_grad_b(op, va, vb, pg[i]);
      }
    }
    return {need_a ? Grad(reduce_to(da, bc.ma, bc.cols, a.shape())) : Grad(),
            need_b ? Grad(reduce_to(db, bc.mb, bc.cols, b.shape())) : Grad()};
  });
}

Tensor binary(Binary op, const Tensor& a, float c) { return binary(op, a, Tensor::scalar(c, a.device())); }
Tensor binary(Binary op, float c, const Tensor& b) { return binary(op, Tensor::scalar(c, b.device()), b); }

}  // namespace curec
