#pragma once
// Metrics that stay on the device until they are logged.
#include "core/tensor.h"

namespace curec::train {

// Sum of squared errors of pred vs target as a one-element device tensor (no host sync).
Tensor squared_error_sum(const Tensor& pred, const Tensor& target);

// An error when an epoch's mean training loss is not finite: the run has diverged.
void check_not_diverged(double train_loss, int epoch, const char* model);

// Running sums of device scalars, read back to the host only by value().
class DeviceMean {
 public:
  void add(const Tensor& batch_sum, int64_t count);  // batch_sum: one-element tensor
  double value() const;                               // syncs
  int64_t count() const { return count_; }
  void reset();

 private:
  Tensor sum_;
  int64_t count_ = 0;
};

}  // namespace curec::train
