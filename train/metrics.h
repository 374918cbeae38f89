#pragma once
// Metrics: those that stay on the device until they are logged, the host-side ones of CTR
// (accuracy, AUC, log loss), and which direction of a metric is better.
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "core/tensor.h"
#include "train/task.h"

namespace curec::train {

// Whether a smaller value of `metric` is better: errors and losses (a name ending in "mse",
// "mae", "loss" or "error": "test_rmse", "logloss"); every other metric (hit, auc, ndcg,
// accuracy) is better larger.
bool lower_is_better(const std::string& metric);

// Area under the ROC curve by ranks: (Σ ranks of positives − P(P+1)/2) / (P·N), tied scores
// sharing their average rank. NaN when there are no positives or no negatives.
double auc(const std::vector<float>& scores, const std::vector<float>& labels);

struct CtrMetrics {
  double accuracy = 0;  // share of rows with (p > 0.5) == label
  double auc = 0;       // NaN when the rows hold only one class
  double logloss = 0;   // mean BCE with p clamped to [1e-7, 1 - 1e-7]
};
CtrMetrics ctr_metrics(const std::vector<float>& probabilities, const std::vector<float>& labels);

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
