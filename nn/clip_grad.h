#pragma once
// Gradient clipping by global norm (PyTorch's clip_grad_norm_): the L2 norm of every gradient
// taken together, and a scale min(1, max_norm / (norm + 1e-6)) that the optimizer's next step
// applies inside its fused update. Everything stays on the parameters' device: no host sync, so
// a step that clips stays capturable. Under data parallelism it runs on the averaged gradients
// (after the exchange, before the step), so N ranks clip as one rank does.
#include <vector>

#include "core/tensor.h"
#include "nn/optimizer.h"

namespace curec::nn {

inline constexpr float kClipEps = 1e-6f;

// The L2 norm of the gradients of `params` (dense, and row-sparse with duplicate rows summed
// first, as the update sums them; parameters without a gradient count as zero), as f32 [1] on
// their device (all must share one).
Tensor grad_norm(const std::vector<Tensor>& params);

// Clips the optimizer's next steps: its gradient scale becomes min(1, max_norm / (norm +
// kClipEps)) for its parameters' gradient norm (max_norm > 0). Returns the norm (f32 [1], on
// the device; reading it syncs).
Tensor clip_grad_norm(Optimizer& optimizer, float max_norm);

namespace cuda {
// out[j] = the squared L2 norm of the summed gradient of the run that starts at sorted slot j,
// 0 elsewhere (indices i64 [n], grad_rows f32 [n, width]).
void sparse_run_squares(const int64_t* indices, const float* grad_rows, int64_t n, int64_t table_rows, int64_t width,
                        float* out, int device);
// norm[0] = sqrt(sum of squares[0..count)), scale[0] = the clip coefficient for max_norm (one
// thread, adding in order).
void clip_finish(const float* squares, int64_t count, float max_norm, float* norm, float* scale, int device);
}  // namespace cuda

}  // namespace curec::nn
