#pragma once
// A model that predicts a rating for (user, item) pairs: MF, the deep and residual rating
// networks. The rating task (train/tasks/rating_task.h) and the evaluators of explicit feedback
// work against this interface.
#include <string>

#include "core/tensor.h"
#include "nn/module.h"

namespace curec::models {

class RatingModel : public nn::Module {
 public:
  // users, items: i32 [batch] dense ids on the model's device -> f32 [batch] predictions.
  virtual Tensor predict(const Tensor& users, const Tensor& items) = 0;
  virtual std::string name() const = 0;
  // A training step of the loss ½(ŷ − y)² as one fused kernel instead of autograd: installs the
  // gradients of the batch mean on the parameters and returns that mean (a one-element device
  // tensor). A model without one returns an undefined tensor.
  virtual Tensor fused_step(const Tensor& /*users*/, const Tensor& /*items*/, const Tensor& /*ratings*/) {
    return Tensor();
  }
};

}  // namespace curec::models
