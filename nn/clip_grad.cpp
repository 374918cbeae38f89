#include "nn/clip_grad.h"

#include <cmath>

#include "core/autograd.h"
#include "core/dispatch.h"
#include "nn/optim_math.h"
#include "nn/sparse_rows.h"
#include "ops/elementwise.h"
#include "ops/reduce.h"

namespace curec::nn {

namespace {

// The squared L2 norm of a row-sparse gradient once its duplicate rows are summed, f32 [1].
Tensor sparse_squared_norm(const Tensor& p) {
  const Tensor &idx = p.sparse_grad_indices(), &rows = p.sparse_grad_rows();
  const int64_t n = idx.numel(), table_rows = p.dim() ? p.size(0) : 0, width = n ? rows.numel() / n : 0;
  return dispatch(
      "grad_norm", p.device(),
      [&] {
        const RowRuns runs = group_rows(idx.data<int64_t>(), n, table_rows, "grad_norm");
        const float* g = rows.data<float>();
        std::vector<float> sum(static_cast<size_t>(width));
        float total = 0.0f;
        for (size_t r = 0; r < runs.runs(); ++r) {
          std::fill(sum.begin(), sum.end(), 0.0f);
          for (int64_t k = runs.starts[r]; k < runs.starts[r + 1]; ++k)
            for (int64_t c = 0; c < width; ++c) sum[c] += g[runs.order[k] * width + c];
          float sq = 0.0f;
          for (float v : sum) sq += v * v;
          total += sq;
        }
        return Tensor::from_vector<float>({total}, {1});
      },
      [&](int dev) {
        Tensor per_slot = Tensor::zeros({std::max<int64_t>(n, 1)}, DType::f32, p.device());
        cuda::sparse_run_squares(idx.data<int64_t>(), rows.data<float>(), n, table_rows, width, per_slot.data<float>(),
                                 dev);
        return curec::sum(per_slot);
      });
}

// Every parameter's squared gradient norm, f32 [params] on their device (0 for no gradient).
Tensor squared_norms(const std::vector<Tensor>& params) {
  const Device device = params.empty() ? Device::cpu() : params[0].device();
  Tensor parts = Tensor::zeros({std::max<int64_t>(static_cast<int64_t>(params.size()), 1)}, DType::f32, device);
  NoGradGuard ng;
  for (size_t i = 0; i < params.size(); ++i) {
    const Tensor& p = params[i];
    CUREC_CHECK(p.device() == device, "grad_norm: parameter ", i, " is on ", p.device().str(), " but parameter 0 is on ",
                device.str(), "; clip the parameters of one device together");
    Tensor sq;
    if (p.has_sparse_grad())
      sq = sparse_squared_norm(p);
    else if (p.grad().defined())
      sq = curec::sum(curec::square(p.grad()));
    if (sq.defined()) parts.rows(static_cast<int64_t>(i), 1).copy_from(sq.view({1}));
  }
  return parts;
}

// The norm and the clip factor for max_norm, each f32 [1] on the parts' device.
std::pair<Tensor, Tensor> norm_and_factor(const Tensor& parts, float max_norm) {
  Tensor norm = Tensor::empty({1}, DType::f32, parts.device()), scale = Tensor::empty({1}, DType::f32, parts.device());
  dispatch(
      "clip_grad_norm", parts.device(),
      [&] {
        // In order, as the CUDA twin adds them.
        float total = 0.0f;
        for (float v : parts.to_vector<float>()) total += v;
        norm.data<float>()[0] = std::sqrt(total);
        scale.data<float>()[0] = optim::clip_factor(norm.data<float>()[0], max_norm, kClipEps);
      },
      [&](int dev) {
        cuda::clip_finish(parts.data<float>(), parts.numel(), max_norm, norm.data<float>(), scale.data<float>(), dev);
      });
  return {norm, scale};
}

}  // namespace

Tensor grad_norm(const std::vector<Tensor>& params) {
  return norm_and_factor(squared_norms(params), 1.0f).first;
}

Tensor clip_grad_norm(Optimizer& optimizer, float max_norm) {
  CUREC_CHECK(std::isfinite(max_norm) && max_norm > 0.0f, "clip_grad_norm: max_norm must be a positive number, got ",
              max_norm);
  auto [norm, scale] = norm_and_factor(squared_norms(optimizer.params()), max_norm);
  optimizer.set_grad_scale(scale);
  return norm;
}

}  // namespace curec::nn
