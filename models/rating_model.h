#pragma once
// A model that predicts a rating for (user, item) pairs: MF, the deep and residual rating
// networks. Trainers and evaluators for explicit feedback work against this interface.
#include "core/tensor.h"
#include "nn/module.h"

namespace curec::models {

class RatingModel : public nn::Module {
 public:
  // users, items: i32 [batch] dense ids on the model's device -> f32 [batch] predictions.
  virtual Tensor predict(const Tensor& users, const Tensor& items) = 0;
  virtual std::string name() const = 0;
};

}  // namespace curec::models
