#include "ops/loss.h"

#include "core/autograd.h"
#include "core/dispatch.h"
#include "core/parallel.h"
#include "ops/reduce.h"

namespace curec {
namespace {

// One loss as the fused op sees it: which formula, what its operands are called in errors,
// and which entries are observed.
struct LossSpec {
  LossSpec(LossKind kind, const char* name, const char* a_name, const char* b_name, float param = 0.0f)
      : kind(kind), name(name), a_name(a_name), b_name(b_name), param(param) {}
  LossKind kind;
  const char* name;
  const char* a_name;
  const char* b_name;
  float param;
  MaskKind mask_kind = MaskKind::all;
  Tensor mask;  // defined for MaskKind::u8 / f32
};

void check_operands(const LossSpec& L, const Tensor& a, const Tensor& b) {
  check_defined(L.name, a, L.a_name);
  check_defined(L.name, b, L.b_name);
  check_dtype(L.name, a, DType::f32, L.a_name);
  check_dtype(L.name, b, DType::f32, L.b_name);
  check_same_device(L.name, a, b);
  CUREC_CHECK(a.shape() == b.shape(), L.name, ": ", L.a_name, " ", a.str(), " and ", L.b_name, " ", b.str(),
              " must have the same shape; reshape one of them to match the other");
}

void forward_elements(const LossSpec& L, const Tensor& a, const Tensor& b, float* loss, float* observed_out) {
  int64_t n = a.numel();
  const void* mask = L.mask.defined() ? L.mask.raw_data() : nullptr;
  const float *pa = a.data<float>(), *pb = b.data<float>();
  dispatch(
      L.name, a.device(),
      [&] {
        parallel_for(0, n, kCpuGrain / 4, [&](int64_t b, int64_t e) {
          for (int64_t i = b; i < e; ++i) {
            bool o = loss::observed(L.mask_kind, mask, pb[i], i);
            loss[i] = o ? loss::value(L.kind, pa[i], pb[i], L.param) : 0.0f;
            if (observed_out) observed_out[i] = o ? 1.0f : 0.0f;
          }
        });
      },
      [&](int dev) { cuda::loss_forward(L.kind, pa, pb, L.mask_kind, mask, L.param, loss, observed_out, n, dev); });
}

void backward_elements(const LossSpec& L, const Tensor& a, const Tensor& b, const loss::Upstream& up, float* da,
                       float* db) {
  int64_t n = a.numel();
  const void* mask = L.mask.defined() ? L.mask.raw_data() : nullptr;
  const float *pa = a.data<float>(), *pb = b.data<float>();
  dispatch(
      L.name, a.device(),
      [&] {
        parallel_for(0, n, kCpuGrain / 4, [&](int64_t b, int64_t e) {
          for (int64_t i = b; i < e; ++i) {
            bool o = loss::observed(L.mask_kind, mask, pb[i], i);
            float u = o ? loss::upstream_at(up, i) : 0.0f;
            if (da) da[i] = o ? loss::grad_a(L.kind, pa[i], pb[i], L.param, u) : 0.0f;
            if (db) db[i] = o ? loss::grad_b(L.kind, pa[i], pb[i], L.param, u) : 0.0f;
          }
        });
      },
      [&](int dev) { cuda::loss_backward(L.kind, pa, pb, L.mask_kind, mask, L.param, up, da, db, n, dev); });
}

void finish(const Tensor& sums, const float* count, float scale, const Tensor& out) {
  const float* ps = sums.data<float>();
  float* po = out.data<float>();
  dispatch(
      "loss", out.device(), [&] { po[0] = loss::finish(ps[0], count, scale); },
      [&](int dev) { cuda::loss_finish(ps, count, scale, po, dev); });
}

// Per-element losses in one kernel, then (for sum and mean) one reduction and a device-side
// scale. A masked mean also reduces the observed indicators, in the same reduction launch, so
// the count never leaves the device.
Tensor fused_loss(const LossSpec& L, const Tensor& a, const Tensor& b, Reduction r) {
  check_operands(L, a, b);
  int64_t n = a.numel();
  bool masked = L.mask_kind != MaskKind::all;
  CUREC_CHECK(masked || r != Reduction::mean || n > 0, L.name, ": mean over empty inputs ", a.str(),
              "; use Reduction::sum or pass a non-empty batch");
  bool need_count = masked && r == Reduction::mean;
  Tensor buf = Tensor::empty({need_count ? 2 : 1, n}, DType::f32, a.device());
  float* per_element = buf.data<float>();
  forward_elements(L, a, b, per_element, need_count ? per_element + n : nullptr);

  Tensor out, count;
  float scale = 1.0f;
  if (r == Reduction::none) {
    out = buf.view(a.shape());
  } else {
    Tensor sums = reduce_sum_3d(buf, buf.size(0), n, 1);  // [1 or 2, 1]: loss sum, observed count
    if (need_count) count = sums.rows(1, 1);
    if (r == Reduction::mean && !masked) scale = 1.0f / static_cast<float>(n);
    out = Tensor::empty({}, DType::f32, a.device());
    finish(sums, count.defined() ? count.data<float>() : nullptr, scale, out);
  }

  LossSpec spec = L;
  return record(out, L.name, {a, b}, [=](const Tensor& g) -> std::vector<Grad> {
    bool need_a = a.requires_grad(), need_b = b.requires_grad();
    Tensor da = need_a ? Tensor::empty(a.shape(), DType::f32, a.device()) : Tensor();
    Tensor db = need_b ? Tensor::empty(b.shape(), DType::f32, b.device()) : Tensor();
    loss::Upstream up{g.data<float>(), r == Reduction::none ? 1 : 0, scale,
                      count.defined() ? count.data<float>() : nullptr};
    backward_elements(spec, a, b, up, need_a ? da.data<float>() : nullptr, need_b ? db.data<float>() : nullptr);
    return {need_a ? Grad(da) : Grad(), need_b ? Grad(db) : Grad()};
  });
}

}  // namespace

Tensor squared_error(const Tensor& pred, const Tensor& target, Reduction r) {
  return fused_loss(LossSpec(LossKind::squared, "squared_error", "pred", "target"), pred, target, r);
}

Tensor masked_squared_error(const Tensor& pred, const Tensor& target, const Tensor& mask, Reduction r) {
  LossSpec L{LossKind::squared, "masked_squared_error", "pred", "target"};
  L.mask_kind = MaskKind::target_nonzero;
  if (mask.defined()) {
    check_defined(L.name, pred, "pred");
    CUREC_CHECK(mask.dtype() == DType::u8 || mask.dtype() == DType::f32, L.name, ": mask ", mask.str(),
                " must be u8 or f32 (nonzero = observed)");
    CUREC_CHECK(mask.shape() == pred.shape(), L.name, ": mask ", mask.str(), " and pred ", pred.str(),
                " must have the same shape");
    check_same_device(L.name, pred, mask);
    L.mask_kind = mask.dtype() == DType::u8 ? MaskKind::u8 : MaskKind::f32;
    L.mask = mask;
  }
  return fused_loss(L, pred, target, r);
}

Tensor bce_with_logits(const Tensor& logits, const Tensor& labels, Reduction r) {
  return fused_loss(LossSpec(LossKind::bce_logits, "bce_with_logits", "logits", "labels"), logits, labels, r);
}

Tensor bpr_loss(const Tensor& pos, const Tensor& neg, Reduction r) {
  return fused_loss(LossSpec(LossKind::bpr, "bpr_loss", "pos", "neg"), pos, neg, r);
}

Tensor hinge_loss(const Tensor& pos, const Tensor& neg, float margin, Reduction r) {
  return fused_loss(LossSpec(LossKind::hinge, "hinge_loss", "pos", "neg", margin), pos, neg, r);
}

}  // namespace curec
