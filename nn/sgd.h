#pragma once
// Stochastic gradient descent with optional momentum and L2 weight decay (added to the
// gradient), as torch.optim.SGD without dampening or Nesterov. A row-sparse gradient gets a
// lazy update: only the touched rows move, and only their velocity decays.
#include "nn/optim_math.h"
#include "nn/optimizer.h"

namespace curec::nn {

struct SgdOptions {
  float lr = 0.01f;
  float momentum = 0.0f;
  float weight_decay = 0.0f;
};

class SGD : public Optimizer {
 public:
  SGD(std::vector<Tensor> params, SgdOptions options) : SGD(one_group(std::move(params)), options) {}
  // Each group's lr and weight_decay default to options'.
  SGD(std::vector<ParamGroup> groups, SgdOptions options);
  // lr and weight_decay are the base class's, of group 0 (set_lr changes lr); the rest as
  // constructed.
  SgdOptions options() const {
    SgdOptions o = options_;
    o.lr = lr();
    o.weight_decay = weight_decay();
    return o;
  }

 protected:
  void update_dense(Tensor& param, const Tensor& grad, std::vector<Tensor>& slots, int64_t step) override;
  void update_sparse(Tensor& param, const Tensor& indices, const Tensor& rows, std::vector<Tensor>& slots,
                     int64_t step) override;
  size_t active_slots() const override { return options_.momentum != 0.0f ? 1 : 0; }

 private:
  optim::SgdHyper hyper() const;
  SgdOptions options_;
};

namespace cuda {
// One fused pass per parameter; velocity may be null (no momentum), and so may scale (the
// gradient scale, one float on the device).
void sgd_dense(float* w, float* velocity, const float* grad, int64_t n, const optim::SgdHyper& h, const float* scale,
               int device);
// Lazy update of the rows named by indices [n] (grad_rows [n, width]; duplicates summed).
void sgd_sparse(float* w, float* velocity, int64_t table_rows, int64_t width, const int64_t* indices,
                const float* grad_rows, int64_t n, const optim::SgdHyper& h, const float* scale, int device);
}  // namespace cuda

}  // namespace curec::nn
