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

EvalPlan rmse_plan(int64_t units, std::function<std::pair<double, int64_t>(int64_t first, int64_t count)> sum_of,
                   const std::string& name) {
  EvalPlan p;
  p.units = units;
  p.part = [sum_of = std::move(sum_of)](int64_t first, int64_t count) {
    auto [se, n] = sum_of(first, count);
    return std::vector<double>{se, static_cast<double>(n)};
  };
  p.finish = [name](const std::vector<double>& parts) {
    CUREC_CHECK(!parts.empty() && parts.size() % 2 == 0, "rmse_plan: ", parts.size(), " numbers are not (sum, count) pairs");
    double se = 0, n = 0;
    for (size_t k = 0; k < parts.size(); k += 2) {
      se += parts[k];
      n += parts[k + 1];
    }
    CUREC_CHECK(n > 0, "rmse_plan: no ratings to evaluate");
    return Metrics{{name, std::sqrt(se / n)}};
  };
  return p;
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

double DeviceMean::sum() const { return sum_.defined() ? static_cast<double>(sum_.item()) : 0.0; }

double DeviceMean::value() const { return count_ ? static_cast<double>(sum_.item()) / count_ : 0.0; }

void DeviceMean::reset() {
  sum_ = Tensor();
  count_ = 0;
}

}  // namespace curec::train
