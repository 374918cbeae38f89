#include "ops/fm.h"

#include "core/autograd.h"
#include "core/dispatch.h"

namespace curec {
namespace {

void fm_forward_cpu(const float* e, float* out, float* sums, int64_t batch, int64_t fields, int64_t k) {
  for (int64_t b = 0; b < batch; ++b) {
    const float* eb = e + b * fields * k;
    double acc = 0;
    for (int64_t j = 0; j < k; ++j) {
      double s = 0, q = 0;
      for (int64_t f = 0; f < fields; ++f) {
        double v = eb[f * k + j];
        s += v;
        q += v * v;
      }
      acc += s * s - q;
      if (sums) sums[b * k + j] = static_cast<float>(s);
    }
    out[b] = static_cast<float>(0.5 * acc);
  }
}

void fm_backward_cpu(const float* e, const float* sums, const float* g, float* de, int64_t batch, int64_t fields,
                     int64_t k) {
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t f = 0; f < fields; ++f)
      for (int64_t j = 0; j < k; ++j) {
        int64_t i = (b * fields + f) * k + j;
        de[i] = g[b] * (sums[b * k + j] - e[i]);
      }
}

}  // namespace

Tensor fm_interaction(const Tensor& e) {
  check_defined("fm_interaction", e, "e");
  check_dtype("fm_interaction", e, DType::f32, "e");
  CUREC_CHECK(e.dim() == 3, "fm_interaction: e ", e.str(),
              " must be [batch, fields, k] (one k-dimensional embedding per field)");
  int64_t batch = e.size(0), fields = e.size(1), k = e.size(2);
  Tensor out = Tensor::empty({batch}, DType::f32, e.device());
  // The per-example field sums S[b, k] are kept for backward (only when a gradient will be
  // asked for): they are 1/fields the size of e, and keeping them turns backward into one
  // coalesced element-wise pass over e instead of a second reduction over fields.
  Tensor sums = any_requires_grad({e}) ? Tensor::empty({batch, k}, DType::f32, e.device()) : Tensor();
  float* psums = sums.defined() ? sums.data<float>() : nullptr;
  const float* pe = e.data<float>();
  float* po = out.data<float>();
  dispatch(
      "fm_interaction", e.device(), [&] { fm_forward_cpu(pe, po, psums, batch, fields, k); },
      [&](int dev) { cuda::fm_forward(pe, po, psums, batch, fields, k, dev); });
  return record(out, "fm_interaction", {e}, [=](const Tensor& g) -> std::vector<Grad> {
    Tensor de = Tensor::empty(e.shape(), DType::f32, e.device());
    const float *pe = e.data<float>(), *ps = sums.data<float>(), *pg = g.data<float>();
    float* pd = de.data<float>();
    dispatch(
        "fm_interaction", e.device(), [&] { fm_backward_cpu(pe, ps, pg, pd, batch, fields, k); },
        [&](int dev) { cuda::fm_backward(pe, ps, pg, pd, batch, fields, k, dev); });
    return {de};
  });
}

}  // namespace curec
