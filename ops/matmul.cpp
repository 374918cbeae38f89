#include "ops/matmul.h"

#include <climits>

#include "core/autograd.h"
#include "core/dispatch.h"
#include "ops/blas.h"

namespace curec {
namespace {

void gemm_cpu(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const float* a, const float* b,
              float* c) {
  // Leading dimensions are the row lengths of the matrices as stored.
  cpu_gemm(trans_a, trans_b, m, n, k, a, trans_a ? m : k, b, trans_b ? k : n, 0.0f, c, n);
}

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b, bool trans_a, bool trans_b) {
  check_defined("matmul", a, "a");
  check_defined("matmul", b, "b");
  check_dtype("matmul", a, DType::f32, "a");
  check_dtype("matmul", b, DType::f32, "b");
  check_same_device("matmul", a, b);
  CUREC_CHECK(a.dim() == 2 && b.dim() == 2, "matmul: needs 2-D operands, got a ", a.str(), " and b ", b.str(),
              "; reshape or flatten them first");
  int64_t m = a.size(trans_a ? 1 : 0), k = a.size(trans_a ? 0 : 1);
  int64_t kb = b.size(trans_b ? 1 : 0), n = b.size(trans_b ? 0 : 1);
  CUREC_CHECK(k == kb, "matmul: inner dimensions differ: op(a) is [", m, ", ", k, "] (a ", a.str(),
              trans_a ? ", transposed" : "", ") but op(b) is [", kb, ", ", n, "] (b ", b.str(),
              trans_b ? ", transposed" : "", "); the columns of op(a) must equal the rows of op(b)");
  CUREC_CHECK(m <= INT_MAX && n <= INT_MAX && k <= INT_MAX, "matmul: dimensions of ", a.str(), " x ", b.str(),
              " exceed the BLAS 32-bit limit");
  Tensor out = Tensor::empty({m, n}, DType::f32, a.device());
  if (m > 0 && n > 0) {
    if (k == 0) {
      out.zero_();  // an empty sum; BLAS implementations disagree on touching C here
    } else {
      const float *pa = a.data<float>(), *pb = b.data<float>();
      float* po = out.data<float>();
      dispatch(
          "matmul", a.device(), [&] { gemm_cpu(trans_a, trans_b, m, n, k, pa, pb, po); },
          [&](int dev) { cuda::gemm(trans_a, trans_b, m, n, k, pa, pb, po, dev); });
    }
  }
  return record(out, "matmul", {a, b}, [=](const Tensor& g) -> std::vector<Grad> {
    // With C = op(A) op(B): dop(A) = G op(B)^T and dop(B) = op(A)^T G; a transposed operand
    // takes the transpose of that, which matmul reads in place.
    Tensor da, db;
    if (a.requires_grad()) da = trans_a ? matmul(b, g, trans_b, true) : matmul(g, b, false, !trans_b);
    if (b.requires_grad()) db = trans_b ? matmul(g, a, true, trans_a) : matmul(a, g, !trans_a, false);
    return {da, db};
  });
}

}  // namespace curec
