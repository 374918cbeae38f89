#include "core/cuda_context.h"
#include "ops/loss.h"

namespace curec::cuda {
namespace {

template <LossKind kind>
__global__ void loss_fwd(const float* a, const float* b, MaskKind mk, const void* mask, float param, float* out,
                         float* observed_out, int64_t n) {
  CUREC_GRID_LOOP(i, n) {
    float va = a[i], vb = b[i];
    bool o = loss::observed(mk, mask, vb, i);
    out[i] = o ? loss::value(kind, va, vb, param) : 0.0f;
    if (observed_out) observed_out[i] = o ? 1.0f : 0.0f;
  }
}

template <LossKind kind>
__global__ void loss_bwd(const float* a, const float* b, MaskKind mk, const void* mask, float param,
                         loss::Upstream up, float* da, float* db, int64_t n) {
  CUREC_GRID_LOOP(i, n) {
    float va = a[i], vb = b[i];
    bool o = loss::observed(mk, mask, vb, i);
    float u = o ? loss::upstream_at(up, i) : 0.0f;
    if (da) da[i] = o ? loss::grad_a(kind, va, vb, param, u) : 0.0f;
    if (db) db[i] = o ? loss::grad_b(kind, va, vb, param, u) : 0.0f;
  }
}

__global__ void loss_finish_kernel(const float* sum, const float* count, float scale, float* out) {
  out[0] = loss::finish(sum[0], count, scale);
}

#define CUREC_LOSS_CASES(X) X(squared) X(bce_logits) X(bpr) X(hinge)

}  // namespace

void loss_forward(LossKind kind, const float* a, const float* b, MaskKind mk, const void* mask, float param,
                  float* out, float* observed_out, int64_t n, int device) {
  if (!n) return;
  DeviceGuard guard(device);
  cudaStream_t s = current_stream(device);
  switch (kind) {
#define X(name) \
  case LossKind::name: loss_fwd<LossKind::name><<<grid_for(n), 256, 0, s>>>(a, b, mk, mask, param, out, observed_out, n); break;
    CUREC_LOSS_CASES(X)
#undef X
  }
  CUREC_KERNEL_CHECK();
}

void loss_backward(LossKind kind, const float* a, const float* b, MaskKind mk, const void* mask, float param,
                   loss::Upstream up, float* da, float* db, int64_t n, int device) {
  if (!n || (!da && !db)) return;
  DeviceGuard guard(device);
  cudaStream_t s = current_stream(device);
  switch (kind) {
#define X(name) \
  case LossKind::name: loss_bwd<LossKind::name><<<grid_for(n), 256, 0, s>>>(a, b, mk, mask, param, up, da, db, n); break;
    CUREC_LOSS_CASES(X)
#undef X
  }
  CUREC_KERNEL_CHECK();
}

void loss_finish(const float* sum, const float* count, float scale, float* out, int device) {
  DeviceGuard guard(device);
  loss_finish_kernel<<<1, 1, 0, current_stream(device)>>>(sum, count, scale, out);
  CUREC_KERNEL_CHECK();
}

}  // namespace curec::cuda
