#pragma once
// The whole forward + loss + backward of one matrix-factorisation step (D2L §15.3) in one pass:
// a training-step primitive for the fused MF trainer, which would otherwise spend its time
// launching the ~40 small kernels of the generic autograd path. It records no autograd node
// and is not differentiable: it writes gradients itself. models/mf.h predict + squared_error
// + backward is the reference it must agree with.
#include "core/tensor.h"

namespace curec {

// For a batch of (user, item, rating): pred = <P[u], Q[i]> + bu[u] + bi[i]; loss_i = ½(pred − r)².
// Adds the gradient of mean_i loss_i w.r.t. P [U, k], Q [I, k], bu [U] or [U, 1], bi [I] or
// [I, 1] into gP, gQ, gbu, gbi (same shapes as the tables; the caller zeroes them), and adds
// Σ_i loss_i into loss_sum (a one-element f32 tensor) without synchronising the host.
// users, items: i32 or i64 [n] (the same dtype); ratings: f32 [n]; everything on one device.
// An id out of range throws on the CPU (before anything is written) and raises the device
// error flag on CUDA (that example is skipped; the error surfaces at the next synchronisation).
void mf_fused_step(const Tensor& P, const Tensor& Q, const Tensor& bu, const Tensor& bi, const Tensor& users,
                   const Tensor& items, const Tensor& ratings, Tensor& gP, Tensor& gQ, Tensor& gbu, Tensor& gbi,
                   Tensor& loss_sum);

namespace cuda {
struct MfStepArgs {
  const float *P, *Q, *bu, *bi, *ratings;
  const void *users, *items;
  bool idx64;
  int64_t n, k, num_users, num_items;
  float *gP, *gQ, *gbu, *gbi, *loss_sum;
};
// One warp per example: lanes over the factors, gradients added with float atomics.
void mf_fused_step(const MfStepArgs& a, int device);
}  // namespace cuda

}  // namespace curec
