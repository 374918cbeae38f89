#include "ops/cross_entropy.h"

#include <algorithm>
#include <cmath>

#include "core/autograd.h"
#include "core/dispatch.h"
#include "core/parallel.h"
#include "ops/reduce.h"

namespace curec {
namespace {

namespace ce = cross_entropy_math;

struct Problem {
  const float* x;
  const void* targets;
  bool wide;
  int64_t ignore, n, c;
};

int64_t row_grain(int64_t c) { return std::max<int64_t>(1, kCpuGrain / 8 / std::max<int64_t>(1, c)); }

void forward_cpu(const Problem& p, float* loss, float* valid, float* lse) {
  parallel_for(0, p.n, row_grain(p.c), [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      const int64_t t = ce::target_at(p.targets, p.wide, i);
      const float* xr = p.x + i * p.c;
      float m = -INFINITY;
      for (int64_t j = 0; j < p.c; ++j) m = std::max(m, xr[j]);
      float s = 0.0f;
      for (int64_t j = 0; j < p.c; ++j) s += std::exp(xr[j] - m);
      lse[i] = m + std::log(s);
      const bool ignored = t == p.ignore;
      CUREC_CHECK(ignored || (t >= 0 && t < p.c), "cross_entropy: target ", t, " of row ", i,
                  " is out of range for ", p.c, " classes; targets must lie in [0, ", p.c,
                  ") or equal the ignore index ", p.ignore);
      loss[i] = ignored ? 0.0f : ce::row_loss(xr[t], m, s);
      valid[i] = ignored ? 0.0f : 1.0f;
    }
  });
}

void backward_cpu(const Problem& p, const float* lse, const loss::Upstream& up, float* dx) {
  parallel_for(0, p.n, row_grain(p.c), [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      const int64_t t = ce::target_at(p.targets, p.wide, i);
      const bool ignored = t == p.ignore;
      const float u = ignored ? 0.0f : loss::upstream_at(up, i);
      for (int64_t j = 0; j < p.c; ++j)
        dx[i * p.c + j] = ignored ? 0.0f : ce::grad(p.x[i * p.c + j], lse[i], j == t, u);
    }
  });
}

}  // namespace

Tensor cross_entropy(const Tensor& logits, const Tensor& targets, int64_t ignore_index, Reduction r) {
  const char* op = "cross_entropy";
  check_defined(op, logits, "logits");
  check_defined(op, targets, "targets");
  check_dtype(op, logits, DType::f32, "logits");
  CUREC_CHECK(targets.dtype() == DType::i64 || targets.dtype() == DType::i32, op, ": targets ", targets.str(),
              " must be i64 or i32 class indices");
  check_same_device(op, logits, targets);
  CUREC_CHECK(logits.dim() == 2 && targets.dim() == 1 && targets.size(0) == logits.size(0), op, ": logits ",
              logits.str(), " and targets ", targets.str(), " must be [N, C] and [N]; reshape the logits to rows");
  CUREC_CHECK(logits.size(1) > 0, op, ": logits ", logits.str(), " have no classes");
  const Problem p{logits.data<float>(), targets.raw_data(), targets.dtype() == DType::i64, ignore_index,
                  logits.size(0), logits.size(1)};
  Tensor buf = Tensor::empty({2, p.n}, DType::f32, logits.device());  // per-row loss, then 1 where counted
  Tensor lse = Tensor::empty({p.n}, DType::f32, logits.device());
  float *loss = buf.data<float>(), *valid = loss + p.n;
  dispatch(
      op, logits.device(), [&] { forward_cpu(p, loss, valid, lse.data<float>()); },
      [&](int dev) {
        cuda::cross_entropy_forward(p.x, p.targets, p.wide, p.ignore, loss, valid, lse.data<float>(), p.n, p.c, dev);
      });

  Tensor out, count;
  if (r == Reduction::none) {
    out = buf.rows(0, 1).view({p.n});
  } else {
    Tensor sums = reduce_sum_3d(buf, 2, p.n, 1);  // [2, 1]: the loss sum and the counted rows, on the device
    if (r == Reduction::mean) count = sums.rows(1, 1);
    out = Tensor::empty({}, DType::f32, logits.device());
    const float* pc = count.defined() ? count.data<float>() : nullptr;
    dispatch(
        op, logits.device(), [&] { out.data<float>()[0] = loss::finish(sums.data<float>()[0], pc, 1.0f); },
        [&](int dev) { cuda::loss_finish(sums.data<float>(), pc, 1.0f, out.data<float>(), dev); });
  }
  return record(out, op, {logits}, [=](const Tensor& g) -> std::vector<Grad> {
    Tensor dx = Tensor::empty(logits.shape(), DType::f32, logits.device());
    const loss::Upstream up{g.data<float>(), r == Reduction::none ? 1 : 0, 1.0f,
                            count.defined() ? count.data<float>() : nullptr};
    dispatch(
        op, logits.device(), [&] { backward_cpu(p, lse.data<float>(), up, dx.data<float>()); },
        [&](int dev) {
          cuda::cross_entropy_backward(p.x, p.targets, p.wide, p.ignore, lse.data<float>(), up, dx.data<float>(), p.n,
                                       p.c, dev);
        });
    return {dx};
  });
}

}  // namespace curec
