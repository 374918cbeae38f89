// MF's fused training step: forward, loss and backward of ½(ŷ − y)² in one kernel
// (ops/mf_step.h) instead of autograd; the same gradients, summed in another order on CUDA.
#include "models/mf.h"
#include "ops/elementwise.h"
#include "ops/mf_step.h"

namespace curec::models {

// The step's state: the four gradient buffers, views of one allocation zeroed with a single
// fill per step and installed as the tables' gradients, and the loss sum, kept across steps so
// that a step allocates nothing.
class FusedMfStep {
 public:
  explicit FusedMfStep(const MatrixFactorization& m)
      : tables_{m.user_factors(), m.item_factors(), m.user_bias(), m.item_bias()} {
    CUREC_CHECK(!m.config().sparse_grad, "fused MF training makes dense gradients, but the model was built with ",
                "sparse_grad; turn off one of the two");
    int64_t total = 0;
    for (const Tensor& t : tables_) total += t.numel();
    flat_ = Tensor::zeros({total}, DType::f32, device());
    int64_t offset = 0;
    for (const Tensor& t : tables_) {
      grads_.push_back(flat_.rows(offset, t.numel()).view(t.shape()));
      offset += t.numel();
    }
    loss_sum_ = Tensor::zeros({1}, DType::f32, device());
  }
  Device device() const { return tables_[0].device(); }

  Tensor run(const Tensor& users, const Tensor& items, const Tensor& ratings) {
    flat_.zero_();
    loss_sum_.zero_();
    mf_fused_step(tables_[0], tables_[1], tables_[2], tables_[3], users, items, ratings, grads_[0], grads_[1],
                  grads_[2], grads_[3], loss_sum_);
    for (size_t k = 0; k < tables_.size(); ++k) tables_[k].set_grad(grads_[k]);
    return loss_sum_.view({}) * (1.0f / static_cast<float>(users.numel()));
  }

 private:
  std::vector<Tensor> tables_, grads_;
  Tensor flat_, loss_sum_;
};

Tensor MatrixFactorization::fused_step(const Tensor& users, const Tensor& items, const Tensor& ratings) {
  if (!fused_ || fused_->device() != user_factors().device()) fused_ = std::make_shared<FusedMfStep>(*this);
  return fused_->run(users, items, ratings);
}

}  // namespace curec::models
