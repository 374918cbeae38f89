#include "nn/sgd.h"

#include <cmath>

#include "core/dispatch.h"
#include "core/parallel.h"
#include "nn/sparse_rows.h"

namespace curec::nn {

SGD::SGD(std::vector<ParamGroup> groups, SgdOptions options)
    : Optimizer(std::move(groups), {options.lr, options.weight_decay}, {"velocity"}), options_(options) {
  name_ = "SGD";
  CUREC_CHECK(options.momentum >= 0.0f && options.momentum < 1.0f, "SGD: momentum must be in [0, 1), got ",
              options.momentum);
  make_device_state();
}

optim::SgdHyper SGD::hyper() const { return {group().lr, options_.momentum, group().weight_decay}; }

void SGD::update_dense(Tensor& param, const Tensor& grad, std::vector<Tensor>& slots, int64_t) {
  optim::SgdHyper h = hyper();
  float* v = slots.empty() ? nullptr : slots[0].data<float>();
  const int64_t n = param.numel();
  float* w = param.data<float>();
  const float *g = grad.data<float>(), *sc = scale();
  dispatch(
      "SGD", param.device(),
      [&] {
        parallel_for(0, n, kCpuGrain, [&](int64_t b, int64_t e) {
          for (int64_t i = b; i < e; ++i) optim::sgd_update(w + i, v ? v + i : nullptr, optim::scaled(g[i], sc), h);
        });
      },
      [&](int dev) { cuda::sgd_dense(w, v, g, n, h, sc, dev); });
}

void SGD::update_sparse(Tensor& param, const Tensor& indices, const Tensor& rows, std::vector<Tensor>& slots,
                        int64_t) {
  optim::SgdHyper h = hyper();
  float* v = slots.empty() ? nullptr : slots[0].data<float>();
  int64_t table_rows = param.size(0), width = table_rows ? param.numel() / table_rows : 0;
  float* w = param.data<float>();
  const float* sc = scale();
  const size_t row_bytes = static_cast<size_t>(width) * sizeof(float);
  dispatch(
      "SGD", param.device(),
      [&] {
        for_each_coalesced_row(
            indices, rows, table_rows, "SGD",
            [&](int64_t row, const float* g) {
              for (int64_t c = 0; c < width; ++c) {
                int64_t k = row * width + c;
                optim::sgd_update(w + k, v ? v + k : nullptr, optim::scaled(g[c], sc), h);
              }
            },
            [&](int64_t row) {
              prefetch_bytes(w + row * width, row_bytes);
              if (v) prefetch_bytes(v + row * width, row_bytes);
            });
      },
      [&](int dev) {
        cuda::sgd_sparse(w, v, table_rows, width, indices.data<int64_t>(), rows.data<float>(), indices.numel(), h, sc, dev);
      });
}

}  // namespace curec::nn
