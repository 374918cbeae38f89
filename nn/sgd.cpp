#include "nn/sgd.h"

#include <cmath>

#include "core/dispatch.h"
#include "core/parallel.h"
#include "nn/sparse_rows.h"

namespace curec::nn {

SGD::SGD(std::vector<Tensor> params, SgdOptions options) : Optimizer(std::move(params), options.lr, {"velocity"}),
                                                           options_(options) {
  name_ = "SGD";
  CUREC_CHECK(options.momentum >= 0.0f && options.momentum < 1.0f, "SGD: momentum must be in [0, 1), got ",
              options.momentum);
  CUREC_CHECK(options.weight_decay >= 0.0f, "SGD: weight_decay must be >= 0, got ", options.weight_decay);
  make_device_state();
}

optim::SgdHyper SGD::hyper() const { return {lr(), options_.momentum, options_.weight_decay}; }

void SGD::update_dense(Tensor& param, const Tensor& grad, std::vector<Tensor>& slots, int64_t) {
  optim::SgdHyper h = hyper();
  float* v = slots.empty() ? nullptr : slots[0].data<float>();
  const int64_t n = param.numel();
  float* w = param.data<float>();
  const float* g = grad.data<float>();
  dispatch(
      "SGD", param.device(),
      [&] {
        parallel_for(0, n, kCpuGrain, [&](int64_t b, int64_t e) {
          for (int64_t i = b; i < e; ++i) optim::sgd_update(w + i, v ? v + i : nullptr, g[i], h);
        });
      },
      [&](int dev) { cuda::sgd_dense(w, v, g, n, h, dev); });
}

void SGD::update_sparse(Tensor& param, const Tensor& indices, const Tensor& rows, std::vector<Tensor>& slots,
                        int64_t) {
  optim::SgdHyper h = hyper();
  float* v = slots.empty() ? nullptr : slots[0].data<float>();
  int64_t table_rows = param.size(0), width = table_rows ? param.numel() / table_rows : 0;
  float* w = param.data<float>();
  const size_t row_bytes = static_cast<size_t>(width) * sizeof(float);
  dispatch(
      "SGD", param.device(),
      [&] {
        for_each_coalesced_row(
            indices, rows, table_rows, "SGD",
            [&](int64_t row, const float* g) {
              for (int64_t c = 0; c < width; ++c) {
                int64_t k = row * width + c;
                optim::sgd_update(w + k, v ? v + k : nullptr, g[c], h);
              }
            },
            [&](int64_t row) {
              prefetch_bytes(w + row * width, row_bytes);
              if (v) prefetch_bytes(v + row * width, row_bytes);
            });
      },
      [&](int dev) {
        cuda::sgd_sparse(w, v, table_rows, width, indices.data<int64_t>(), rows.data<float>(), indices.numel(), h, dev);
      });
}

}  // namespace curec::nn
