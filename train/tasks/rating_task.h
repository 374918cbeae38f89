#pragma once
// Explicit ratings (MF, the deep and residual rating nets) as the book's train_recsys_rating
// trains them: the loss ½(ŷ − y)² averaged over a batch of (user, item, rating) rows, scored
// by the test RMSE (metric "test_rmse"). The rows live on the training device.
#include <string>
#include <utility>

#include "data/interactions.h"
#include "models/rating_model.h"
#include "train/task.h"

namespace curec::train {

// Device-resident columns of a set of ratings.
struct RatingColumns {
  Tensor users, items;  // i32 [n]
  Tensor ratings;       // f32 [n]
  static RatingColumns from(const data::Interactions& d, Device device);
  int64_t size() const { return users.defined() ? users.numel() : 0; }
};

// Σ (ŷ − y)² over rows [first, first + count) and count: a part of the RMSE (one host read).
std::pair<double, int64_t> squared_error_total(models::RatingModel& model, const RatingColumns& rows, int64_t first,
                                               int64_t count, int64_t batch_size = 8192);
// The RMSE of the model over the rows (rows are the plan's units), as metric "test_rmse".
EvalPlan rating_rmse_plan(models::RatingModel& model, const RatingColumns& rows, int64_t batch_size = 8192);
// That RMSE at once (eval mode, no gradients).
double evaluate_rmse(models::RatingModel& model, const RatingColumns& rows, int64_t batch_size = 8192);

class RatingTask : public Task {
 public:
  // fused: each step is the model's fused kernel (RatingModel::fused_step) instead of autograd.
  RatingTask(models::RatingModel& model, const data::Interactions& train, const data::Interactions& test,
             bool fused = false);
  std::string name() const override { return model_.name(); }
  nn::Module& module() override { return model_; }
  int64_t num_examples() const override { return static_cast<int64_t>(train_.size()); }
  void to(Device device) override;
  BatchLoss loss(const Tensor& indices, const StepContext& context) override;
  std::optional<EvalPlan> evaluation(EvalPart part) override;

 private:
  models::RatingModel& model_;
  const data::Interactions& train_;
  const data::Interactions& test_;
  bool fused_;
  RatingColumns tr_, te_;
};

}  // namespace curec::train
