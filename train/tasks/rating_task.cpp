#include "train/tasks/rating_task.h"

#include "core/autograd.h"
#include "data/take.h"
#include "ops/loss.h"
#include "train/metrics.h"

namespace curec::train {

RatingColumns RatingColumns::from(const data::Interactions& d, Device device) {
  auto n = static_cast<int64_t>(d.size());
  return RatingColumns{Tensor::from_vector(d.user, {n}, device), Tensor::from_vector(d.item, {n}, device),
                       Tensor::from_vector(d.rating, {n}, device)};
}

std::pair<double, int64_t> squared_error_total(models::RatingModel& model, const RatingColumns& rows, int64_t first,
                                               int64_t count, int64_t batch_size) {
  CUREC_CHECK(first >= 0 && count >= 0 && first + count <= rows.size() && batch_size > 0, "squared_error_total: rows [",
              first, ", ", first + count, ") of ", rows.size(), " in batches of ", batch_size);
  NoGradGuard ng;
  const bool was_training = model.is_training();
  model.eval();
  DeviceMean se;
  for (int64_t start = first; start < first + count; start += batch_size) {
    const int64_t len = std::min(batch_size, first + count - start);
    Tensor pred = model.predict(rows.users.rows(start, len), rows.items.rows(start, len));
    se.add(squared_error_sum(pred, rows.ratings.rows(start, len)), len);
  }
  model.train(was_training);
  return {se.sum(), count};
}

EvalPlan rating_rmse_plan(models::RatingModel& model, const RatingColumns& rows, int64_t batch_size) {
  return rmse_plan(rows.size(), [&model, &rows, batch_size](int64_t first, int64_t count) {
    return squared_error_total(model, rows, first, count, batch_size);
  });
}

double evaluate_rmse(models::RatingModel& model, const RatingColumns& rows, int64_t batch_size) {
  CUREC_CHECK(rows.size() > 0, "evaluate_rmse: no rows to evaluate");
  return rating_rmse_plan(model, rows, batch_size).run().at("test_rmse");
}

RatingTask::RatingTask(models::RatingModel& model, const data::Interactions& train, const data::Interactions& test,
                       bool fused)
    : model_(model), train_(train), test_(test), fused_(fused) {
  CUREC_CHECK(train.size() > 0, model.name(), ": the training set is empty");
}

void RatingTask::to(Device device) {
  tr_ = RatingColumns::from(train_, device);
  if (test_.size()) te_ = RatingColumns::from(test_, device);
}

BatchLoss RatingTask::loss(const Tensor& idx, const StepContext&) {
  Tensor u = data::take_rows(tr_.users, idx), i = data::take_rows(tr_.items, idx);
  Tensor y = data::take_rows(tr_.ratings, idx);
  if (!fused_) return {squared_error(model_.predict(u, i), y, Reduction::mean)};
  Tensor loss = model_.fused_step(u, i, y);
  CUREC_CHECK(loss.defined(), "fused training is implemented for matrix factorization only, not '", model_.name(),
              "'; leave fused off for this model");
  return {loss, false};
}

std::optional<EvalPlan> RatingTask::evaluation(EvalPart part) {
  if (part != EvalPart::test || test_.size() == 0) return std::nullopt;
  return rating_rmse_plan(model_, te_);
}

}  // namespace curec::train
