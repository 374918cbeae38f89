#pragma once
// A click-through-rate model over categorical fields: FM, DeepFM. The CTR task
// (train/tasks/ctr_task.h) trains and scores it through this interface only.
#include <string>

#include "core/tensor.h"
#include "nn/module.h"

namespace curec::models {

class CtrModel : public nn::Module {
 public:
  // fields: i32/i64 [batch, num_fields] global feature indices (data/ctr.h) -> f32 [batch]
  // logits (what the loss takes: bce_with_logits is stable where log σ is not).
  virtual Tensor logits(const Tensor& fields) = 0;
  // Click probabilities σ(logits) -> f32 [batch].
  virtual Tensor predict(const Tensor& fields) = 0;
  virtual int64_t num_fields() const = 0;
  virtual std::string name() const = 0;
};

}  // namespace curec::models
