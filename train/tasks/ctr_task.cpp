#include "train/tasks/ctr_task.h"

#include "core/autograd.h"
#include "data/take.h"
#include "ops/concat.h"
#include "ops/loss.h"
#include "train/metrics.h"

namespace curec::train {

CtrColumns CtrColumns::from(const data::CtrData& d, Device device) {
  CUREC_CHECK(static_cast<int64_t>(d.fields.size()) == d.rows() * d.num_fields(), "CtrColumns: ", d.fields.size(),
              " feature indices do not fill ", d.rows(), " rows of ", d.num_fields(), " fields");
  return CtrColumns{d.fields_tensor(device), d.labels_tensor(device)};
}

std::vector<float> predict_ctr(models::CtrModel& model, const CtrColumns& rows, int64_t batch_size) {
  CUREC_CHECK(rows.size() > 0, "predict_ctr: needs rows (got ", rows.size(), ")");
  return predict_ctr(model, rows, 0, rows.size(), batch_size);
}

std::vector<float> predict_ctr(models::CtrModel& model, const CtrColumns& rows, int64_t first, int64_t count,
                               int64_t batch_size) {
  CUREC_CHECK(first >= 0 && count >= 0 && first + count <= rows.size() && batch_size > 0, "predict_ctr: rows [", first,
              ", ", first + count, ") of ", rows.size(), " in batches of ", batch_size, " (a positive size)");
  if (count == 0) return {};
  NoGradGuard ng;
  const bool was_training = model.is_training();
  model.eval();
  std::vector<Tensor> parts;
  for (int64_t start = first; start < first + count; start += batch_size) {
    const int64_t len = std::min(batch_size, first + count - start);
    parts.push_back(model.predict(rows.fields.rows(start, len)));
  }
  model.train(was_training);
  Tensor all = parts.size() == 1 ? parts[0] : concat(parts, 0);
  return all.to_vector<float>();  // the one host sync of an evaluation
}

CtrTask::CtrTask(models::CtrModel& model, const data::CtrData& train, const data::CtrData& test,
                 const data::CtrData& validation)
    : model_(model), train_(train), test_(test), valid_(validation) {
  CUREC_CHECK(train.rows() > 0, model.name(), ": the training set is empty");
  CUREC_CHECK(train.num_fields() == model.num_fields(), model.name(), ": the data has ", train.num_fields(),
              " fields, the model ", model.num_fields());
}

void CtrTask::to(Device device) {
  tr_ = CtrColumns::from(train_, device);
  if (valid_.rows()) va_ = CtrColumns::from(valid_, device);
  if (test_.rows()) te_ = CtrColumns::from(test_, device);
}

BatchLoss CtrTask::loss(const Tensor& idx, const StepContext&) {
  Tensor x = data::take_rows(tr_.fields, idx), y = data::take_rows(tr_.labels, idx);
  return {bce_with_logits(model_.logits(x), y, Reduction::mean)};
}

// Units are rows; a part is their predicted probabilities, and the metrics (AUC ranks every
// row) are computed from all of them at once.
std::optional<EvalPlan> CtrTask::evaluation(EvalPart part) {
  const bool test = part == EvalPart::test;
  const data::CtrData& data = test ? test_ : valid_;
  if (data.rows() == 0) return std::nullopt;
  const CtrColumns& rows = test ? te_ : va_;
  EvalPlan p;
  p.units = data.rows();
  p.part = [this, &rows](int64_t first, int64_t count) {
    std::vector<float> prob = predict_ctr(model_, rows, first, count);
    return std::vector<double>(prob.begin(), prob.end());
  };
  p.finish = [&labels = data.labels](const std::vector<double>& parts) {
    CUREC_CHECK(parts.size() == labels.size(), "ctr evaluation: ", parts.size(), " probabilities for ", labels.size(),
                " rows");
    CtrMetrics m = ctr_metrics(std::vector<float>(parts.begin(), parts.end()), labels);
    return Metrics{{"accuracy", m.accuracy}, {"auc", m.auc}, {"logloss", m.logloss}};
  };
  return p;
}

}  // namespace curec::train
