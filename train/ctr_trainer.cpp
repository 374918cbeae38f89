#include "train/ctr_trainer.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "core/autograd.h"
#include "data/take.h"
#include "ops/concat.h"
#include "ops/elementwise.h"
#include "ops/loss.h"
#include "train/metrics.h"
#include "train/trainer.h"

namespace curec::train {

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

data::CtrData row_range(const data::CtrData& d, int64_t start, int64_t count) {
  data::CtrData out;
  out.field_dims = d.field_dims;
  out.offsets = d.offsets;
  int64_t F = d.num_fields();
  out.fields.assign(d.fields.begin() + start * F, d.fields.begin() + (start + count) * F);
  out.labels.assign(d.labels.begin() + start, d.labels.begin() + start + count);
  return out;
}

CtrMetrics no_metrics() { return CtrMetrics{kNaN, kNaN, kNaN}; }
}  // namespace

CtrColumns CtrColumns::from(const data::CtrData& d, Device device) {
  CUREC_CHECK(static_cast<int64_t>(d.fields.size()) == d.rows() * d.num_fields(), "CtrColumns: ", d.fields.size(),
              " feature indices do not fill ", d.rows(), " rows of ", d.num_fields(), " fields");
  return CtrColumns{d.fields_tensor(device), d.labels_tensor(device)};
}

std::pair<data::CtrData, data::CtrData> split_tail(const data::CtrData& d, double fraction) {
  CUREC_CHECK(fraction > 0 && fraction < 1, "split_tail: fraction must be in (0, 1), got ", fraction);
  auto tail = static_cast<int64_t>(std::llround(d.rows() * fraction));
  CUREC_CHECK(tail >= 1 && tail < d.rows(), "split_tail: ", d.rows(), " rows are too few to hold out ", fraction,
              " of them (each part needs at least one row)");
  return {row_range(d, 0, d.rows() - tail), row_range(d, d.rows() - tail, tail)};
}

std::vector<float> predict_ctr(models::FactorizationMachine& model, const CtrColumns& rows, int64_t batch_size) {
  CUREC_CHECK(rows.size() > 0, "predict_ctr: needs rows (got ", rows.size(), ")");
  return predict_ctr(model, rows, 0, rows.size(), batch_size);
}

std::vector<float> predict_ctr(models::FactorizationMachine& model, const CtrColumns& rows, int64_t first,
                               int64_t count, int64_t batch_size) {
  CUREC_CHECK(first >= 0 && count >= 0 && first + count <= rows.size() && batch_size > 0, "predict_ctr: rows [", first,
              ", ", first + count, ") of ", rows.size(), " in batches of ", batch_size, " (a positive size)");
  if (count == 0) return {};
  NoGradGuard ng;
  bool was_training = model.is_training();
  model.eval();
  std::vector<Tensor> parts;
  for (int64_t start = first; start < first + count; start += batch_size) {
    int64_t len = std::min(batch_size, first + count - start);
    parts.push_back(model.predict(rows.fields.rows(start, len)));
  }
  model.train(was_training);
  Tensor all = parts.size() == 1 ? parts[0] : concat(parts, 0);
  return all.to_vector<float>();  // the one host sync of an evaluation
}

double auc(const std::vector<float>& scores, const std::vector<float>& labels) {
  CUREC_CHECK(scores.size() == labels.size(), "auc: ", scores.size(), " scores for ", labels.size(), " labels");
  size_t n = scores.size();
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return scores[a] < scores[b]; });
  double positives = 0, rank_sum = 0;
  for (size_t i = 0; i < n;) {
    size_t j = i;
    while (j < n && scores[order[j]] == scores[order[i]]) ++j;
    double rank = 0.5 * static_cast<double>(i + 1 + j);  // mean of the 1-based ranks i+1..j
    for (size_t t = i; t < j; ++t)
      if (labels[order[t]] > 0.5f) {
        positives += 1;
        rank_sum += rank;
      }
    i = j;
  }
  double negatives = static_cast<double>(n) - positives;
  if (positives == 0 || negatives == 0) return kNaN;
  return (rank_sum - positives * (positives + 1) / 2) / (positives * negatives);
}

CtrMetrics ctr_metrics(const std::vector<float>& p, const std::vector<float>& y) {
  CUREC_CHECK(p.size() == y.size() && !p.empty(), "ctr_metrics: ", p.size(), " probabilities for ", y.size(),
              " labels (need equal, non-zero counts)");
  double correct = 0, ll = 0;
  for (size_t i = 0; i < p.size(); ++i) {
    bool pos = y[i] > 0.5f;
    correct += ((p[i] > 0.5f) == pos) ? 1 : 0;
    double q = std::clamp(static_cast<double>(p[i]), 1e-7, 1 - 1e-7);
    ll -= pos ? std::log(q) : std::log(1 - q);
  }
  auto n = static_cast<double>(p.size());
  return CtrMetrics{correct / n, auc(p, y), ll / n};
}

CtrMetrics evaluate_ctr(models::FactorizationMachine& model, const CtrColumns& rows, int64_t batch_size) {
  return ctr_metrics(predict_ctr(model, rows, batch_size), rows.labels.to_vector<float>());
}

namespace {
// CTR rows: binary cross-entropy on the logits; accuracy, AUC and log loss.
class CtrTask : public Task {
 public:
  CtrTask(models::FactorizationMachine& model, const data::CtrData& train, const data::CtrData& valid,
          const data::CtrData& test)
      : model_(model), train_(train), valid_(valid), test_(test) {}
  std::string name() const override { return model_.name(); }
  nn::Module& module() override { return model_; }
  void to(Device device) override {
    tr_ = CtrColumns::from(train_, device);
    if (valid_.rows()) va_ = CtrColumns::from(valid_, device);
    if (test_.rows()) te_ = CtrColumns::from(test_, device);
  }
  int64_t num_examples() const override { return train_.rows(); }
  BatchLoss loss(const Tensor& idx, const StepContext&) override {
    Tensor x = data::take_rows(tr_.fields, idx), y = data::take_rows(tr_.labels, idx);
    return {bce_with_logits(model_.logits(x), y, Reduction::mean)};
  }
  bool has(EvalPart part) const override { return (part == EvalPart::test ? test_ : valid_).rows() > 0; }
  Metrics evaluate(EvalPart part) override { return evaluation(part)->run(); }
  // Units are rows; a part is their predicted probabilities, and the metrics (AUC ranks every
  // row) are computed from all of them at once.
  std::optional<EvalPlan> evaluation(EvalPart part) override {
    const bool test = part == EvalPart::test;
    const CtrColumns& rows = test ? te_ : va_;
    const std::vector<float>& labels = (test ? test_ : valid_).labels;
    EvalPlan p;
    p.units = rows.size();
    p.part = [this, &rows](int64_t first, int64_t count) {
      std::vector<float> prob = predict_ctr(model_, rows, first, count);
      return std::vector<double>(prob.begin(), prob.end());
    };
    p.finish = [&labels](const std::vector<double>& parts) {
      CUREC_CHECK(parts.size() == labels.size(), "ctr evaluation: ", parts.size(), " probabilities for ", labels.size(),
                  " rows");
      CtrMetrics m = ctr_metrics(std::vector<float>(parts.begin(), parts.end()), labels);
      return Metrics{{"accuracy", m.accuracy}, {"auc", m.auc}, {"logloss", m.logloss}};
    };
    return p;
  }
  bool higher_is_better(const std::string& metric) const override { return metric != "logloss"; }

 private:
  models::FactorizationMachine& model_;
  const data::CtrData &train_, &valid_, &test_;
  CtrColumns tr_, va_, te_;
};

CtrMetrics ctr_of(const Metrics& m) {
  if (m.empty()) return no_metrics();
  return CtrMetrics{m.at("accuracy"), m.at("auc"), m.at("logloss")};
}
}  // namespace

CtrTrainResult train_ctr_model(models::FactorizationMachine& model, const data::CtrData& train_in,
                               const data::CtrData& test, const CtrTrainConfig& c, TrainerHooks hooks) {
  CUREC_CHECK(train_in.rows() > 0, "train_ctr_model: the training set is empty");
  CUREC_CHECK(train_in.num_fields() == model.num_fields(), "train_ctr_model: the data has ", train_in.num_fields(),
              " fields, the model ", model.num_fields());
  CUREC_CHECK(!c.early_stop || c.early_stop->metric == "auc" || c.early_stop->metric == "logloss" ||
                  c.early_stop->metric == "accuracy",
              "train_ctr_model: early stopping on '", c.early_stop ? c.early_stop->metric : "",
              "': use auc, logloss or accuracy");
  data::CtrData train_part, valid_part;
  if (c.early_stop) std::tie(train_part, valid_part) = split_tail(train_in, c.validation_fraction);
  const data::CtrData& train = c.early_stop ? train_part : train_in;
  CtrTask task(model, train, valid_part, test);

  auto report = [&](const EpochRecord& r) {
    CtrEpochReport e;
    e.epoch = r.epoch;
    e.train_loss = r.train_loss;
    e.seconds = r.seconds;
    e.test = r.evaluated ? ctr_of(r.test) : no_metrics();
    e.valid_auc = c.early_stop ? r.validation.at("auc") : kNaN;
    return e;
  };
  TrainResult t = Trainer(task, c, hooks).fit();

  CtrTrainResult result;
  for (const EpochRecord& r : t.history) result.epochs.push_back(report(r));
  result.best_epoch = t.best_epoch;
  result.best_valid_auc = c.early_stop ? t.history.at(static_cast<size_t>(t.best_epoch - 1)).validation.at("auc") : kNaN;
  result.final_test = ctr_of(t.final_test);
  result.train_rows = train.rows();
  result.valid_rows = valid_part.rows();
  result.train_seconds = t.train_seconds;
  result.examples_per_sec = t.examples_per_sec;
  return result;
}

}  // namespace curec::train
