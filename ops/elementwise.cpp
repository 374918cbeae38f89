#include "ops/elementwise.h"

#include <algorithm>
#include <type_traits>

#include "core/autograd.h"
#include "core/dispatch.h"
#include "core/parallel.h"
#include "ops/broadcast.h"
#include "ops/reduce.h"

namespace curec {
namespace {

const char* unary_name(Unary op) {
  static const char* names[] = {"neg",     "exp",  "log",  "sqrt", "square", "sign",
                                "sigmoid", "tanh", "relu", "elu",  "gelu"};
  return names[static_cast<int>(op)];
}
const char* binary_name(Binary op) {
  static const char* names[] = {"add", "sub", "mul", "div"};
  return names[static_cast<int>(op)];
}

// Calls f(std::integral_constant<E, v>) for the runtime value v among Vs: each CPU loop is
// compiled once per op (and broadcast form), so the formula's switch folds away and the loop
// vectorises where the formula allows.
template <class E, E... Vs, class F>
void dispatch(E v, F&& f) {
  (void)((v == Vs ? (f(std::integral_constant<E, Vs>{}), true) : false) || ...);
}
template <class F>
void with_unary(Unary op, F&& f) {
  dispatch<Unary, Unary::neg, Unary::exp, Unary::log, Unary::sqrt, Unary::square, Unary::sign, Unary::sigmoid,
           Unary::tanh, Unary::relu, Unary::elu, Unary::gelu>(op, f);
}
template <class F>
void with_binary(Binary op, F&& f) {
  dispatch<Binary, Binary::add, Binary::sub, Binary::mul, Binary::div>(op, f);
}
template <class F>
void with_bcast(ew::Bcast m, F&& f) {
  dispatch<ew::Bcast, ew::Bcast::full, ew::Bcast::scalar, ew::Bcast::row, ew::Bcast::col>(m, f);
}

// Element (r, c) of the output [rows, cols] read from an operand broadcast as M
// (ew::bcast_index of i = r * cols + c, without its division).
template <ew::Bcast M>
int64_t operand_index(int64_t r, int64_t c, int64_t cols) {
  if constexpr (M == ew::Bcast::full) return r * cols + c;
  else if constexpr (M == ew::Bcast::scalar) return 0;
  else if constexpr (M == ew::Bcast::row) return c;
  else return r;
}

// How a binary op reads its operands: one of the fast forms (ma, mb over [rows, cols]), or, when
// none fits, general NumPy broadcasting through nd.
struct Broadcast {
  Shape out_shape;
  ew::Bcast ma = ew::Bcast::full, mb = ew::Bcast::full;
  int64_t cols = 1;
  bool general = false;
  ew::NdIndex nd{};
};

// Runs body(op, i, ia, ib) over the n output elements of a binary op, i's operand indices ia and
// ib, with the op and both broadcast forms compile-time constants; split over the CPU threads.
template <class F>
void for_each_binary_fast(Binary op, ew::Bcast ma, ew::Bcast mb, int64_t n, int64_t cols, F&& body) {
  using B = ew::Bcast;
  with_binary(op, [&](auto OP) {
    with_bcast(ma, [&](auto MA) {
      with_bcast(mb, [&](auto MB) {
        constexpr bool flat = (MA() == B::full || MA() == B::scalar) && (MB() == B::full || MB() == B::scalar);
        if constexpr (flat) {
          parallel_for(0, n, kCpuGrain, [&](int64_t b, int64_t e) {
            for (int64_t i = b; i < e; ++i)
              body(OP, i, MA() == B::full ? i : int64_t{0}, MB() == B::full ? i : int64_t{0});
          });
        } else {
          parallel_for(0, n / cols, std::max<int64_t>(1, kCpuGrain / cols), [&](int64_t rb, int64_t re) {
            for (int64_t r = rb; r < re; ++r)
              for (int64_t c = 0; c < cols; ++c)
                body(OP, r * cols + c, operand_index<MA()>(r, c, cols), operand_index<MB()>(r, c, cols));
          });
        }
      });
    });
  });
}

// The same over general broadcasting.
template <class F>
void for_each_binary_nd(Binary op, const ew::NdIndex& x, int64_t n, F&& body) {
  with_binary(op, [&](auto OP) {
    for_each_broadcast(x, n, [&](int64_t i, int64_t ia, int64_t ib) { body(OP, i, ia, ib); });
  });
}

template <class F>
void for_each_binary(Binary op, const Broadcast& bc, int64_t n, F&& body) {
  if (bc.general) for_each_binary_nd(op, bc.nd, n, body);
  else for_each_binary_fast(op, bc.ma, bc.mb, n, bc.cols, body);
}

Tensor unary_backward(Unary op, const Tensor& x, const Tensor& y, const Tensor& g, float alpha) {
  Tensor dx = Tensor::empty(x.shape(), DType::f32, x.device());
  const int64_t n = x.numel();
  const float *px = x.data<float>(), *py = y.data<float>(), *pg = g.data<float>();
  float* pd = dx.data<float>();
  dispatch(
      unary_name(op), x.device(),
      [&] {
        with_unary(op, [&](auto OP) {
          parallel_for(0, n, kCpuGrain, [&](int64_t b, int64_t e) {
            for (int64_t i = b; i < e; ++i) pd[i] = ew::unary_grad(OP, px[i], py[i], pg[i], alpha);
          });
        });
      },
      [&](int dev) { cuda::unary_backward(op, px, py, pg, pd, n, alpha, dev); });
  return dx;
}

bool is_row_of(const Tensor& small, const Shape& big) {
  int64_t cols = big.back();
  return big.size() >= 2 && small.numel() == cols &&
         (small.dim() == 1 || (small.dim() == 2 && small.size(0) == 1));
}

// [..., 1] is NumPy's column too; the leading dims [...] alone are read as a column only where
// NumPy cannot broadcast them ([m] with [m, n], m != n), so no NumPy-valid pair changes meaning.
bool is_col_of(const Tensor& small, const Shape& big) {
  if (big.size() < 2) return false;
  Shape lead(big.begin(), big.end() - 1);
  Shape with_one = lead;
  with_one.push_back(1);
  return small.shape() == with_one || (small.shape() == lead && !broadcastable(lead, big));
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
    if (is_row_of(small, big.shape()) || is_col_of(small, big.shape())) {
      r.out_shape = big.shape();
      (a_big ? r.mb : r.ma) = is_row_of(small, big.shape()) ? ew::Bcast::row : ew::Bcast::col;
    } else {
      r.out_shape = broadcast_shape(binary_name(op), a, b);
      r.general = true;
      r.nd = nd_index(r.out_shape, a.shape(), b.shape());
    }
  }
  r.cols = r.out_shape.empty() ? 1 : r.out_shape.back();
  if (r.cols == 0) r.cols = 1;
  return r;
}

// Sums a full-size gradient back to the operand's broadcast shape.
Tensor reduce_to(const Tensor& full, ew::Bcast m, int64_t cols, const Shape& shape, bool general) {
  if (general) return sum_to(full, shape);
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
  const int64_t n = x.numel();
  const float* px = x.data<float>();
  float* py = y.data<float>();
  dispatch(
      unary_name(op), x.device(),
      [&] {
        with_unary(op, [&](auto OP) {
          parallel_for(0, n, kCpuGrain, [&](int64_t b, int64_t e) {
            for (int64_t i = b; i < e; ++i) py[i] = ew::unary(OP, px[i], alpha);
          });
        });
      },
      [&](int dev) { cuda::unary_forward(op, px, py, n, alpha, dev); });
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
  const int64_t n = out.numel();
  const float *pa = a.data<float>(), *pb = b.data<float>();
  float* po = out.data<float>();
  dispatch(
      name, a.device(),
      [&] {
        for_each_binary(op, bc, n,
                        [&](auto OP, int64_t i, int64_t ia, int64_t ib) { po[i] = ew::binary(OP, pa[ia], pb[ib]); });
      },
      [&](int dev) {
        if (bc.general) cuda::binary_forward_nd(op, pa, pb, po, n, bc.nd, dev);
        else cuda::binary_forward(op, pa, bc.ma, pb, bc.mb, po, n, bc.cols, dev);
      });
  return record(out, name, {a, b}, [=](const Tensor& g) -> std::vector<Grad> {
    bool need_a = a.requires_grad(), need_b = b.requires_grad();
    Tensor da = need_a ? Tensor::empty(bc.out_shape, DType::f32, g.device()) : Tensor();
    Tensor db = need_b ? Tensor::empty(bc.out_shape, DType::f32, g.device()) : Tensor();
    float* pda = need_a ? da.data<float>() : nullptr;
    float* pdb = need_b ? db.data<float>() : nullptr;
    const float *pa = a.data<float>(), *pb = b.data<float>(), *pg = g.data<float>();
    dispatch(
        name, g.device(),
        [&] {
          auto grads = [&](auto want_a, auto want_b) {
            for_each_binary(op, bc, n, [&](auto OP, int64_t i, int64_t ia, int64_t ib) {
              if constexpr (want_a()) pda[i] = ew::binary_grad_a(OP, pa[ia], pb[ib], pg[i]);
              if constexpr (want_b()) pdb[i] = ew::binary_grad_b(OP, pa[ia], pb[ib], pg[i]);
            });
          };
          if (pda && pdb) grads(std::true_type{}, std::true_type{});
          else if (pda) grads(std::true_type{}, std::false_type{});
          else if (pdb) grads(std::false_type{}, std::true_type{});
        },
        [&](int dev) {
          if (bc.general) cuda::binary_backward_nd(op, pa, pb, pg, pda, pdb, n, bc.nd, dev);
          else cuda::binary_backward(op, pa, bc.ma, pb, bc.mb, pg, pda, pdb, n, bc.cols, dev);
        });
    return {need_a ? Grad(reduce_to(da, bc.ma, bc.cols, a.shape(), bc.general)) : Grad(),
            need_b ? Grad(reduce_to(db, bc.mb, bc.cols, b.shape(), bc.general)) : Grad()};
  });
}

Tensor binary(Binary op, const Tensor& a, float c) { return binary(op, a, Tensor::scalar(c, a.device())); }
Tensor binary(Binary op, float c, const Tensor& b) { return binary(op, Tensor::scalar(c, b.device()), b); }

}  // namespace curec
