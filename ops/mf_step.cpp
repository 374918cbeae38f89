#include "ops/mf_step.h"

#include <vector>

#include "core/checked.h"
#include "core/dispatch.h"
#include "core/parallel.h"
#include "core/prefetch.h"

namespace curec {
namespace {

constexpr const char* kOp = "mf_fused_step";

void check_table(const Tensor& t, const Tensor& g, const Tensor& ref, int64_t width, const char* name,
                 const char* grad_name) {
  check_defined(kOp, t, name);
  check_defined(kOp, g, grad_name);
  check_dtype(kOp, t, DType::f32, name);
  check_dtype(kOp, g, DType::f32, grad_name);
  check_same_device(kOp, t, ref);
  check_same_device(kOp, g, ref);
  CUREC_CHECK(t.dim() >= 1 && t.numel() == checked_mul(t.size(0), width, "mf_fused_step: table rows times width"),
              kOp, ": ", name, " must hold rows of ", width,
              " values, got ", t.str());
  CUREC_CHECK(g.shape() == t.shape(), kOp, ": gradient buffer ", grad_name, " ", g.str(), " must have the shape of ",
              name, " ", t.str());
}

template <class I>
void check_ids(const Tensor& ids, int64_t rows, const char* what) {
  const I* p = ids.data<I>();
  for (int64_t i = 0; i < ids.numel(); ++i)
    CUREC_CHECK(p[i] >= 0 && static_cast<int64_t>(p[i]) < rows, kOp, ": ", what, " id ", static_cast<int64_t>(p[i]),
                " at position ", i, " is out of range for a table of ", rows, " rows; ids must lie in [0, ", rows,
                ")");
}

// Examples per piece of the loss sum: fixed, so the loss is the same for any thread count.
constexpr int64_t kLossPiece = 4096;

// The reference: the chain rule of ½(<p,q> + b_u + b_i − r)² / n written out per example. Two
// passes: each example's residual (in parallel, the loss summed in fixed pieces), then the
// gradients, added in example order.
template <class I>
void step_cpu(const Tensor& P, const Tensor& Q, const Tensor& bu, const Tensor& bi, const Tensor& users,
              const Tensor& items, const Tensor& ratings, Tensor& gP, Tensor& gQ, Tensor& gbu, Tensor& gbi,
              Tensor& loss_sum) {
  check_ids<I>(users, P.size(0), "user");
  check_ids<I>(items, Q.size(0), "item");
  const int64_t n = users.numel(), k = P.size(1);
  const I *us = users.data<I>(), *is = items.data<I>();
  const float *p = P.data<float>(), *q = Q.data<float>(), *b_u = bu.data<float>(), *b_i = bi.data<float>();
  const float* r = ratings.data<float>();
  float *gp = gP.data<float>(), *gq = gQ.data<float>(), *gb_u = gbu.data<float>(), *gb_i = gbi.data<float>();
  const float inv_n = 1.0f / static_cast<float>(n);
  std::vector<float> grad(static_cast<size_t>(n));  // d loss_mean / d pred, per example
  const size_t row_bytes = static_cast<size_t>(k) * sizeof(float);
  const double loss = parallel_reduce(
      int64_t{0}, n, kLossPiece, 0.0,
      [&](int64_t b, int64_t e) {
        double part = 0;
        for (int64_t x = b; x < e; ++x) {
          if (x + kPrefetchAhead < e) {  // the rows are anywhere in the tables: ask for them early
            prefetch_bytes(p + static_cast<int64_t>(us[x + kPrefetchAhead]) * k, row_bytes);
            prefetch_bytes(q + static_cast<int64_t>(is[x + kPrefetchAhead]) * k, row_bytes);
          }
          const float* pu = p + static_cast<int64_t>(us[x]) * k;
          const float* qi = q + static_cast<int64_t>(is[x]) * k;
          float pred = 0.0f;
          for (int64_t c = 0; c < k; ++c) pred += pu[c] * qi[c];
          pred += b_u[us[x]] + b_i[is[x]];
          const float d = pred - r[x];
          part += 0.5 * double(d) * d;
          grad[static_cast<size_t>(x)] = d * inv_n;
        }
        return part;
      },
      [](double a, double b) { return a + b; });
  // Adds example x's terms to the rows it names inside [ulo, uhi) x [ilo, ihi).
  auto add = [&](int64_t ulo, int64_t uhi, int64_t ilo, int64_t ihi) {
    for (int64_t x = 0; x < n; ++x) {
      if (x + kPrefetchAhead < n) {
        const int64_t u = us[x + kPrefetchAhead], i = is[x + kPrefetchAhead];
        if (u >= ulo && u < uhi) prefetch_bytes(gp + u * k, row_bytes), prefetch_bytes(q + i * k, row_bytes);
        if (i >= ilo && i < ihi) prefetch_bytes(gq + i * k, row_bytes), prefetch_bytes(p + u * k, row_bytes);
      }
      const int64_t u = us[x], i = is[x];
      const float g = grad[static_cast<size_t>(x)];
      if (u >= ulo && u < uhi) {
        const float* qi = q + i * k;
        for (int64_t c = 0; c < k; ++c) gp[u * k + c] += g * qi[c];
        gb_u[u] += g;
      }
      if (i >= ilo && i < ihi) {
        const float* pu = p + u * k;
        for (int64_t c = 0; c < k; ++c) gq[i * k + c] += g * pu[c];
        gb_i[i] += g;
      }
    }
  };
  // On one thread: splitting the tables' rows over threads (each scanning every example, half
  // of them a mispredicted branch) measured slower with 2 threads than with 1 (bench_cpu_threads).
  add(0, P.size(0), 0, Q.size(0));
  loss_sum.data<float>()[0] += static_cast<float>(loss);
}

}  // namespace

void mf_fused_step(const Tensor& P, const Tensor& Q, const Tensor& bu, const Tensor& bi, const Tensor& users,
                   const Tensor& items, const Tensor& ratings, Tensor& gP, Tensor& gQ, Tensor& gbu, Tensor& gbi,
                   Tensor& loss_sum) {
  check_defined(kOp, P, "P");
  check_defined(kOp, Q, "Q");
  CUREC_CHECK(P.dim() == 2 && Q.dim() == 2 && P.size(1) == Q.size(1), kOp, ": P and Q must be [users, k] and ",
              "[items, k] with the same k, got ", P.str(), " and ", Q.str());
  const int64_t k = P.size(1);
  check_table(P, gP, P, k, "P", "gP");
  check_table(Q, gQ, P, k, "Q", "gQ");
  check_table(bu, gbu, P, 1, "bu", "gbu");
  check_table(bi, gbi, P, 1, "bi", "gbi");
  CUREC_CHECK(bu.size(0) == P.size(0) && bi.size(0) == Q.size(0), kOp, ": bu ", bu.str(), " and bi ", bi.str(),
              " must have one row per row of P ", P.str(), " and Q ", Q.str());
  check_defined(kOp, users, "users");
  check_defined(kOp, items, "items");
  check_defined(kOp, ratings, "ratings");
  check_defined(kOp, loss_sum, "loss_sum");
  check_same_device(kOp, P, users);
  check_same_device(kOp, P, items);
  check_same_device(kOp, P, ratings);
  check_same_device(kOp, P, loss_sum);
  CUREC_CHECK(users.dtype() == items.dtype() && (users.dtype() == DType::i32 || users.dtype() == DType::i64), kOp,
              ": users and items must both be i32 or both i64, got ", users.str(), " and ", items.str());
  check_dtype(kOp, ratings, DType::f32, "ratings");
  check_dtype(kOp, loss_sum, DType::f32, "loss_sum");
  CUREC_CHECK(users.dim() == 1 && items.shape() == users.shape() && ratings.shape() == users.shape(), kOp,
              ": users, items and ratings must be [n] vectors of one length, got ", users.str(), ", ", items.str(),
              ", ", ratings.str());
  CUREC_CHECK(loss_sum.numel() == 1, kOp, ": loss_sum must hold one element, got ", loss_sum.str());
  if (users.numel() == 0) return;
  const bool idx64 = users.dtype() == DType::i64;
  dispatch(
      kOp, P.device(),
      [&] {
        if (idx64) step_cpu<int64_t>(P, Q, bu, bi, users, items, ratings, gP, gQ, gbu, gbi, loss_sum);
        else step_cpu<int32_t>(P, Q, bu, bi, users, items, ratings, gP, gQ, gbu, gbi, loss_sum);
      },
      [&](int dev) {
        cuda::MfStepArgs a{P.data<float>(), Q.data<float>(), bu.data<float>(), bi.data<float>(),
                           ratings.data<float>(), users.raw_data(), items.raw_data(), idx64,
                           users.numel(), k, P.size(0), Q.size(0),
                           gP.data<float>(), gQ.data<float>(), gbu.data<float>(), gbi.data<float>(),
                           loss_sum.data<float>()};
        cuda::mf_fused_step(a, dev);
      });
}

}  // namespace curec
