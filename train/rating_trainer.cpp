#include "train/rating_trainer.h"

#include <cmath>
#include <memory>

#include "core/autograd.h"
#include "data/take.h"
#include "models/mf.h"
#include "ops/elementwise.h"
#include "ops/loss.h"
#include "ops/mf_step.h"
#include "train/metrics.h"
#include "train/trainer.h"

namespace curec::train {

RatingColumns RatingColumns::from(const data::Interactions& d, Device device) {
  auto n = static_cast<int64_t>(d.size());
  RatingColumns c;
  c.users = Tensor::from_vector(d.user, {n}, device);
  c.items = Tensor::from_vector(d.item, {n}, device);
  c.ratings = Tensor::from_vector(d.rating, {n}, device);
  return c;
}

std::pair<double, int64_t> squared_error_total(models::RatingModel& model, const RatingColumns& rows, int64_t first,
                                               int64_t count, int64_t batch_size) {
  CUREC_CHECK(first >= 0 && count >= 0 && first + count <= rows.size() && batch_size > 0, "squared_error_total: rows [",
              first, ", ", first + count, ") of ", rows.size(), " in batches of ", batch_size);
  NoGradGuard ng;
  bool was_training = model.is_training();
  model.eval();
  DeviceMean se;
  for (int64_t start = first; start < first + count; start += batch_size) {
    int64_t len = std::min(batch_size, first + count - start);
    Tensor pred = model.predict(rows.users.rows(start, len), rows.items.rows(start, len));
    se.add(squared_error_sum(pred, rows.ratings.rows(start, len)), len);
  }
  model.train(was_training);
  return {se.sum(), count};
}

double evaluate_rmse(models::RatingModel& model, const RatingColumns& rows, int64_t batch_size) {
  CUREC_CHECK(rows.size() > 0, "evaluate_rmse: no rows to evaluate");
  return rating_rmse_plan(model, rows, batch_size).run().at("test_rmse");
}

EvalPlan rating_rmse_plan(models::RatingModel& model, const RatingColumns& rows, int64_t batch_size) {
  return rmse_plan(rows.size(), [&model, &rows, batch_size](int64_t first, int64_t count) {
    return squared_error_total(model, rows, first, count, batch_size);
  });
}

namespace {
// The fused MF step's state: the four gradient buffers, views of one allocation zeroed with a
// single fill per step and installed as the tables' gradients, and the epoch's loss sum, all
// kept across steps so a step allocates nothing.
class FusedMfStep {
 public:
  explicit FusedMfStep(const models::MatrixFactorization& m)
      : tables_{m.user_factors(), m.item_factors(), m.user_bias(), m.item_bias()} {
    CUREC_CHECK(!m.config().sparse_grad, "fused MF training makes dense gradients, but the model was built with ",
                "sparse_grad; turn off one of the two");
    int64_t total = 0;
    for (const Tensor& t : tables_) total += t.numel();
    const Device device = tables_[0].device();
    flat_ = Tensor::zeros({total}, DType::f32, device);
    int64_t offset = 0;
    for (const Tensor& t : tables_) {
      grads_.push_back(flat_.rows(offset, t.numel()).view(t.shape()));
      offset += t.numel();
    }
    loss_sum_ = Tensor::zeros({1}, DType::f32, device);
  }

  // Gradients of the batch's mean loss installed on the tables; returns that mean loss.
  Tensor run(const Tensor& users, const Tensor& items, const Tensor& ratings) {
    flat_.zero_();
    loss_sum_.zero_();
    mf_fused_step(tables_[0], tables_[1], tables_[2], tables_[3], users, items, ratings, grads_[0], grads_[1],
                  grads_[2], grads_[3], loss_sum_);
    for (size_t k = 0; k < tables_.size(); ++k) tables_[k].set_grad(grads_[k]);
    return loss_sum_.view({}) * (1.0f / static_cast<float>(users.numel()));
  }

 private:
  std::vector<Tensor> tables_, grads_;
  Tensor flat_, loss_sum_;
};

// Rating rows: ½(ŷ − y)² per row, test RMSE.
class RatingTask : public Task {
 public:
  RatingTask(models::RatingModel& model, const data::Interactions& train, const data::Interactions& test, bool fused)
      : model_(model), train_(train), test_(test), fused_(fused) {
    CUREC_CHECK(train.size() > 0, model.name(), ": the training set is empty");
  }
  std::string name() const override { return model_.name(); }
  nn::Module& module() override { return model_; }
  void to(Device device) override {
    tr_ = RatingColumns::from(train_, device);
    if (test_.size()) te_ = RatingColumns::from(test_, device);
    if (fused_) {
      auto* mf = dynamic_cast<models::MatrixFactorization*>(&model_);
      CUREC_CHECK(mf, "fused training is implemented for matrix factorization only, not '", model_.name(),
                  "'; leave fused off for this model");
      fused_step_ = std::make_unique<FusedMfStep>(*mf);
    }
  }
  int64_t num_examples() const override { return static_cast<int64_t>(train_.size()); }
  BatchLoss loss(const Tensor& idx, const StepContext&) override {
    Tensor u = data::take_rows(tr_.users, idx), i = data::take_rows(tr_.items, idx);
    Tensor y = data::take_rows(tr_.ratings, idx);
    if (fused_step_) return {fused_step_->run(u, i, y), false};
    return {squared_error(model_.predict(u, i), y, Reduction::mean), true};
  }
  bool has(EvalPart part) const override { return part == EvalPart::test && test_.size() > 0; }
  Metrics evaluate(EvalPart) override { return {{"test_rmse", evaluate_rmse(model_, te_)}}; }
  std::optional<EvalPlan> evaluation(EvalPart) override { return rating_rmse_plan(model_, te_); }
  bool higher_is_better(const std::string&) const override { return false; }

 private:
  models::RatingModel& model_;
  const data::Interactions& train_;
  const data::Interactions& test_;
  bool fused_;
  RatingColumns tr_, te_;
  std::unique_ptr<FusedMfStep> fused_step_;
};
}  // namespace

EpochReport rating_epoch(const EpochRecord& r) {
  EpochReport e;
  e.epoch = r.epoch;
  e.train_loss = r.train_loss;
  e.seconds = r.seconds;
  auto it = r.test.find("test_rmse");
  e.test_rmse = it == r.test.end() ? std::nan("") : it->second;
  return e;
}

RatingTrainResult rating_train_result(const TrainResult& t) {
  RatingTrainResult out;
  for (const EpochRecord& r : t.history) out.epochs.push_back(rating_epoch(r));
  out.train_seconds = t.train_seconds;
  out.examples_per_sec = t.examples_per_sec;
  return out;
}

RatingTrainResult train_rating_model(models::RatingModel& model, const data::Interactions& train,
                                     const data::Interactions& test, const RatingTrainConfig& c,
                                     TrainerHooks hooks) {
  RatingTask task(model, train, test, c.fused);
  return rating_train_result(Trainer(task, c, hooks).fit());
}

}  // namespace curec::train
