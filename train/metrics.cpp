#include "train/metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "core/autograd.h"
#include "core/error.h"
#include "ops/elementwise.h"
#include "ops/reduce.h"

namespace curec::train {

bool lower_is_better(const std::string& metric) {
  auto ends_with = [&](const std::string& tail) {
    return metric.size() >= tail.size() && metric.compare(metric.size() - tail.size(), tail.size(), tail) == 0;
  };
  return ends_with("mse") || ends_with("mae") || ends_with("loss") || ends_with("error");
}

double auc(const std::vector<float>& scores, const std::vector<float>& labels) {
  CUREC_CHECK(scores.size() == labels.size(), "auc: ", scores.size(), " scores for ", labels.size(), " labels");
  const size_t n = scores.size();
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return scores[a] < scores[b]; });
  double positives = 0, rank_sum = 0;
  for (size_t i = 0; i < n;) {
    size_t j = i;
    while (j < n && scores[order[j]] == scores[order[i]]) ++j;
    const double rank = 0.5 * static_cast<double>(i + 1 + j);  // mean of the 1-based ranks i+1..j
    for (size_t t = i; t < j; ++t)
      if (labels[order[t]] > 0.5f) {
        positives += 1;
        rank_sum += rank;
      }
    i = j;
  }
  const double negatives = static_cast<double>(n) - positives;
  if (positives == 0 || negatives == 0) return std::numeric_limits<double>::quiet_NaN();
  return (rank_sum - positives * (positives + 1) / 2) / (positives * negatives);
}

CtrMetrics ctr_metrics(const std::vector<float>& p, const std::vector<float>& y) {
  CUREC_CHECK(p.size() == y.size() && !p.empty(), "ctr_metrics: ", p.size(), " probabilities for ", y.size(),
              " labels (need equal, non-zero counts)");
  double correct = 0, ll = 0;
  for (size_t i = 0; i < p.size(); ++i) {
    const bool pos = y[i] > 0.5f;
    correct += ((p[i] > 0.5f) == pos) ? 1 : 0;
    const double q = std::clamp(static_cast<double>(p[i]), 1e-7, 1 - 1e-7);
    ll -= pos ? std::log(q) : std::log(1 - q);
  }
  const auto n = static_cast<double>(p.size());
  return CtrMetrics{correct / n, auc(p, y), ll / n};
}

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
