#pragma once
// A model that reconstructs rows of the rating matrix from the rows themselves: AutoRec. The
// AutoRec task (train/tasks/autorec_task.h) trains and scores it through this interface only.
#include <string>

#include "core/tensor.h"
#include "nn/module.h"

namespace curec::models {

class RowModel : public nn::Module {
 public:
  virtual std::string name() const = 0;
  // x: f32 [batch, num_inputs] ratings, 0 = unrated -> f32 [batch, num_inputs] reconstruction.
  virtual Tensor forward(const Tensor& x) = 0;
  virtual int64_t num_inputs() const = 0;
  // Whether a row is an item (its ratings by every user) rather than a user (theirs of every item).
  virtual bool rows_are_items() const = 0;
};

}  // namespace curec::models
