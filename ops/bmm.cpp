#include "ops/bmm.h"

#include <climits>

#include "core/autograd.h"
#include "core/dispatch.h"
#include "core/parallel.h"
#include "ops/blas.h"
#include "ops/reduce.h"

namespace curec {
namespace {

// Below this many multiply-adds a product is one BLAS call (ops/blas.cpp cuts larger ones into
// blocks for the threads), so the threads are better spent on separate batch entries.
constexpr int64_t kSmallProduct = int64_t{1} << 22;

void bmm_cpu(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const float* a, int64_t stride_a,
             const float* b, int64_t stride_b, float* c, int64_t batch) {
  auto one = [&](int64_t i) {
    cpu_gemm(trans_a, trans_b, m, n, k, a + i * stride_a, trans_a ? m : k, b + i * stride_b, trans_b ? k : n, 0.0f,
             c + i * m * n, n);
  };
  // cpu_gemm computes the same bits nested in a parallel_for or not (its blocks depend on the
  // shape alone), so how the batch is spread changes the speed only.
  if (m * n * k < kSmallProduct)
    parallel_for(0, batch, 1, [&](int64_t first, int64_t last) {
      for (int64_t i = first; i < last; ++i) one(i);
    });
  else
    for (int64_t i = 0; i < batch; ++i) one(i);
}

}  // namespace

Tensor bmm(const Tensor& a, const Tensor& b, bool trans_a, bool trans_b) {
  check_defined("bmm", a, "a");
  check_defined("bmm", b, "b");
  check_dtype("bmm", a, DType::f32, "a");
  check_dtype("bmm", b, DType::f32, "b");
  check_same_device("bmm", a, b);
  CUREC_CHECK(a.dim() == 3 && b.dim() == 3, "bmm: needs 3-D operands [batch, rows, cols], got a ", a.str(),
              " and b ", b.str(), "; use matmul for 2-D, or reshape extra leading dims into the batch");
  const int64_t ba = a.size(0), bb = b.size(0);
  CUREC_CHECK(ba == bb || ba == 1 || bb == 1, "bmm: batch sizes differ: a ", a.str(), " and b ", b.str(),
              "; they must be equal, or one of them 1 (broadcast)");
  const int64_t batch = ba == 1 ? bb : ba;
  const int64_t m = a.size(trans_a ? 2 : 1), k = a.size(trans_a ? 1 : 2);
  const int64_t kb = b.size(trans_b ? 2 : 1), n = b.size(trans_b ? 1 : 2);
  CUREC_CHECK(k == kb, "bmm: inner dimensions differ: op(a) is [", m, ", ", k, "] per batch (a ", a.str(),
              trans_a ? ", transposed" : "", ") but op(b) is [", kb, ", ", n, "] (b ", b.str(),
              trans_b ? ", transposed" : "", "); the columns of op(a) must equal the rows of op(b)");
  CUREC_CHECK(m <= INT_MAX && n <= INT_MAX && k <= INT_MAX && batch <= INT_MAX, "bmm: dimensions of ", a.str(),
              " x ", b.str(), " exceed the BLAS 32-bit limit");
  Tensor out = Tensor::empty({batch, m, n}, DType::f32, a.device());
  if (out.numel() > 0) {
    if (k == 0) {
      out.zero_();  // empty sums
    } else {
      const int64_t sa = ba == 1 ? 0 : m * k, sb = bb == 1 ? 0 : k * n;
      const float *pa = a.data<float>(), *pb = b.data<float>();
      float* po = out.data<float>();
      dispatch(
          "bmm", a.device(), [&] { bmm_cpu(trans_a, trans_b, m, n, k, pa, sa, pb, sb, po, batch); },
          [&](int dev) { cuda::gemm_strided_batched(trans_a, trans_b, m, n, k, pa, sa, pb, sb, po, batch, dev); });
    }
  }
  return record(out, "bmm", {a, b}, [=](const Tensor& g) -> std::vector<Grad> {
    // matmul's rule per batch entry; an operand broadcast from a batch of 1 sums its entries.
    auto batch_summed = [&](Tensor d, const Tensor& x) {
      return x.size(0) == d.size(0) ? d : reduce_sum_3d(d, 1, d.size(0), d.numel() / d.size(0)).view(x.shape());
    };
    Tensor da, db;
    if (a.requires_grad())
      da = batch_summed(trans_a ? bmm(b, g, trans_b, true) : bmm(g, b, false, !trans_b), a);
    if (b.requires_grad())
      db = batch_summed(trans_b ? bmm(g, a, true, trans_a) : bmm(a, g, !trans_a, false), b);
    return {da, db};
  });
}

}  // namespace curec
