#include "train/autorec_trainer.h"

#include <algorithm>
#include <cmath>

#include "core/autograd.h"
#include "data/csr.h"
#include "data/take.h"
#include "ops/elementwise.h"
#include "ops/loss.h"
#include "train/metrics.h"
#include "train/trainer.h"

namespace curec::train {

AutoRecMatrices AutoRecMatrices::from(const data::Interactions& train, const data::Interactions& test,
                                      models::AutoRecKind kind, Device device) {
  CUREC_CHECK(train.num_users == test.num_users && train.num_items == test.num_items,
              "autorec: train and test must share their id maps, got ", train.num_users, "x", train.num_items, " and ",
              test.num_users, "x", test.num_items, " users x items; split one data set with data/split.h");
  bool by_item = kind == models::AutoRecKind::item_based;
  AutoRecMatrices m;
  m.train = by_item ? data::dense_item_user(train, device) : data::dense_user_item(train, device);
  m.test = by_item ? data::dense_item_user(test, device) : data::dense_user_item(test, device);
  m.test_count = static_cast<int64_t>(test.size());
  return m;
}

double evaluate_autorec_rmse(models::AutoRec& model, const Tensor& train, const Tensor& test, int64_t test_count,
                             int64_t eval_rows) {
  CUREC_CHECK(test_count > 0, "evaluate_autorec_rmse: no test ratings to evaluate");
  CUREC_CHECK(train.shape() == test.shape(), "evaluate_autorec_rmse: train ", train.str(), " and test ", test.str(),
              " matrices differ in shape");
  NoGradGuard ng;
  bool was_training = model.is_training();
  model.eval();
  Tensor half_se;  // ½ Σ (ŷ − y)² over test entries, on the device
  for (int64_t start = 0; start < train.size(0); start += eval_rows) {
    int64_t len = std::min(eval_rows, train.size(0) - start);
    Tensor part = masked_squared_error(model.forward(train.rows(start, len)), test.rows(start, len), Tensor(),
                                       Reduction::sum);
    half_se = half_se.defined() ? half_se + part : part;
  }
  model.train(was_training);
  return std::sqrt(2.0 * half_se.item() / static_cast<double>(test_count));
}

namespace {
// Rows of the dense rating matrix: the batch mean of each row's ½ Σ_observed (ŷ − y)², test RMSE.
class AutoRecTask : public Task {
 public:
  AutoRecTask(models::AutoRec& model, const data::Interactions& train, const data::Interactions& test,
              int64_t eval_rows)
      : model_(model), train_(train), test_(test), eval_rows_(eval_rows) {
    CUREC_CHECK(train.size() > 0, "autorec: the training set is empty");
    CUREC_CHECK(eval_rows > 0, "autorec: eval rows must be positive, got ", eval_rows);
  }
  std::string name() const override { return "autorec"; }
  nn::Module& module() override { return model_; }
  void to(Device device) override {
    m_ = AutoRecMatrices::from(train_, test_, model_.config().kind, device);
    CUREC_CHECK(m_.train.size(1) == model_.config().num_inputs, "train_autorec: the model takes ",
                model_.config().num_inputs, " inputs per row but the rating matrix has ", m_.train.size(1),
                " columns; build it with num_inputs = ", m_.train.size(1));
  }
  int64_t num_examples() const override { return rows(); }
  BatchLoss loss(const Tensor& idx, const StepContext&) override {
    Tensor x = data::take_rows(m_.train, idx);
    return {masked_squared_error(model_.forward(x), x, Tensor(), Reduction::sum) * (1.0f / idx.numel())};
  }
  bool has(EvalPart part) const override { return part == EvalPart::test && test_.size() > 0; }
  Metrics evaluate(EvalPart) override {
    return {{"test_rmse", evaluate_autorec_rmse(model_, m_.train, m_.test, m_.test_count, eval_rows_)}};
  }
  bool higher_is_better(const std::string&) const override { return false; }
  int64_t rows() const {
    return model_.config().kind == models::AutoRecKind::item_based ? train_.num_items : train_.num_users;
  }

 private:
  models::AutoRec& model_;
  const data::Interactions& train_;
  const data::Interactions& test_;
  int64_t eval_rows_;
  AutoRecMatrices m_;
};
}  // namespace

RatingTrainResult train_autorec(models::AutoRec& model, const data::Interactions& train,
                                const data::Interactions& test, const AutoRecTrainConfig& c,
                                TrainerHooks hooks) {
  AutoRecTask task(model, train, test, c.eval_rows);
  TrainerConfig tc = c;
  tc.batch_size = std::min(c.batch_size, task.rows());  // the documented cap (a batch is at most every row)
  return rating_train_result(Trainer(task, tc, hooks).fit());
}

}  // namespace curec::train
