#include "nn/adam.h"

#include "core/dispatch.h"
#include "core/parallel.h"
#include "nn/sparse_rows.h"

namespace curec::nn {

Adam::Adam(std::vector<ParamGroup> groups, AdamOptions options)
    : Optimizer(std::move(groups), {options.lr, options.weight_decay}, {"exp_avg", "exp_avg_sq"}), options_(options) {
  name_ = "Adam";
  CUREC_CHECK(options.beta1 >= 0.0f && options.beta1 < 1.0f && options.beta2 >= 0.0f && options.beta2 < 1.0f,
              "Adam: betas must be in [0, 1), got ", options.beta1, ", ", options.beta2);
  CUREC_CHECK(options.eps > 0.0f, "Adam: eps must be > 0, got ", options.eps);
  make_device_state();
}

optim::AdamHyper Adam::hyper(int64_t step) const {
  return optim::adam_hyper(group().lr, options_.beta1, options_.beta2, options_.eps, group().weight_decay, step);
}

void Adam::update_dense(Tensor& param, const Tensor& grad, std::vector<Tensor>& slots, int64_t step) {
  optim::AdamHyper h = hyper(step);
  float *m = slots[0].data<float>(), *v = slots[1].data<float>();
  const int64_t n = param.numel();
  float* w = param.data<float>();
  const float *g = grad.data<float>(), *sc = scale();
  dispatch(
      "Adam", param.device(),
      [&] {
        parallel_for(0, n, kCpuGrain / 4, [&](int64_t b, int64_t e) {
          for (int64_t i = b; i < e; ++i) optim::adam_update(w + i, m + i, v + i, optim::scaled(g[i], sc), h);
        });
      },
      [&](int dev) { cuda::adam_dense(w, m, v, g, n, h, sc, dev); });
}

void Adam::update_sparse(Tensor& param, const Tensor& indices, const Tensor& rows, std::vector<Tensor>& slots,
                         int64_t step) {
  optim::AdamHyper h = hyper(step);
  float *m = slots[0].data<float>(), *v = slots[1].data<float>();
  int64_t table_rows = param.size(0), width = table_rows ? param.numel() / table_rows : 0;
  float* w = param.data<float>();
  const float* sc = scale();
  const size_t row_bytes = static_cast<size_t>(width) * sizeof(float);
  dispatch(
      "Adam", param.device(),
      [&] {
        for_each_coalesced_row(
            indices, rows, table_rows, "Adam",
            [&](int64_t row, const float* g) {
              for (int64_t c = 0; c < width; ++c) {
                int64_t k = row * width + c;
                optim::adam_update(w + k, m + k, v + k, optim::scaled(g[c], sc), h);
              }
            },
            [&](int64_t row) {
              for (const float* t : {w, m, v}) prefetch_bytes(t + row * width, row_bytes);
            });
      },
      [&](int dev) {
        cuda::adam_sparse(w, m, v, table_rows, width, indices.data<int64_t>(), rows.data<float>(), indices.numel(), h,
                          sc, dev);
      });
}

}  // namespace curec::nn
