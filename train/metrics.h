#pragma once
// Metrics that stay on the device until they are logged.
#include <cstdint>
#include <functional>
#include <string>
#include <utility>

#include "core/tensor.h"
#include "train/task.h"

namespace curec::train {

// Sum of squared errors of pred vs target as a one-element device tensor (no host sync).
Tensor squared_error_sum(const Tensor& pred, const Tensor& target);

// An error when an epoch's mean training loss is not finite: the run has diverged.
void check_not_diverged(double train_loss, int epoch, const char* model);

// RMSE as an evaluation the ranks share: sum_of(first, count) gives Σ (ŷ − y)² over those
// units and the number of ratings it covers; the metric `name` is √(Σ over parts / Σ counts).
EvalPlan rmse_plan(int64_t units, std::function<std::pair<double, int64_t>(int64_t first, int64_t count)> sum_of,
                   const std::string& name = "test_rmse");

// Running sums of device scalars, read back to the host only by value().
class DeviceMean {
 public:
  void add(const Tensor& batch_sum, int64_t count);  // batch_sum: one-element tensor
  double value() const;                               // syncs
  double sum() const;                                 // syncs; 0 when nothing was added
  int64_t count() const { return count_; }
  void reset();

 private:
  Tensor sum_;
  int64_t count_ = 0;
};

}  // namespace curec::train
