#include "train/metrics.h"

#include <cmath>

#include "core/autograd.h"
#include "core/error.h"
#include "ops/elementwise.h"
#include "ops/reduce.h"

namespace curec::train {

void check_not_diverged(double train_loss, int epoch, const char* model) {
  CUREC_CHECK(std::isfinite(train_loss), model, " training diverged: epoch ", epoch, " loss is ", train_loss,
              "; lower the learning rate");
}

Tensor squared_error_sum(const Tensor& pred, const Tensor& target) {
  NoGradGuard ng;
  Tensor d = pred - target;
  return sum(d * d);
}

void DeviceMean::add(const Tensor& batch_sum, int64_t count) {
  NoGradGuard ng;
  Tensor s = batch_sum.detach().view({});
  sum_ = sum_.defined() ? sum_ + s : s.clone();
  count_ += count;
}

double DeviceMean::value() const { return count_ ? static_cast<double>(sum_.item()) / count_ : 0.0; }

void DeviceMean::reset() {
  sum_ = Tensor();
  count_ = 0;
}

}  // namespace curec::train
