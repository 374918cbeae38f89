#include "train/tasks/autorec_task.h"

#include <cmath>

#include "core/autograd.h"
#include "data/csr.h"
#include "data/take.h"
#include "ops/elementwise.h"
#include "ops/loss.h"
#include "train/metrics.h"

namespace curec::train {

AutoRecMatrices AutoRecMatrices::from(const data::Interactions& train, const data::Interactions& test, bool by_item,
                                      Device device) {
  CUREC_CHECK(train.num_users == test.num_users && train.num_items == test.num_items,
              "autorec: train and test must share their id maps, got ", train.num_users, "x", train.num_items, " and ",
              test.num_users, "x", test.num_items, " users x items; split one data set with data/split.h");
  AutoRecMatrices m;
  m.train = by_item ? data::dense_item_user(train, device) : data::dense_user_item(train, device);
  m.test = by_item ? data::dense_item_user(test, device) : data::dense_user_item(test, device);
  m.test_count = static_cast<int64_t>(test.size());
  const int64_t rows = by_item ? test.num_items : test.num_users;
  m.test_before.assign(static_cast<size_t>(rows + 1), 0);
  for (size_t r = 0; r < test.size(); ++r) ++m.test_before[static_cast<size_t>((by_item ? test.item : test.user)[r]) + 1];
  for (int64_t r = 0; r < rows; ++r) m.test_before[r + 1] += m.test_before[r];
  return m;
}

double autorec_half_squared_error(models::RowModel& model, const Tensor& train, const Tensor& test, int64_t first,
                                  int64_t count, int64_t eval_rows) {
  CUREC_CHECK(train.shape() == test.shape(), "autorec evaluation: train ", train.str(), " and test ", test.str(),
              " matrices differ in shape");
  CUREC_CHECK(first >= 0 && count >= 0 && first + count <= train.size(0) && eval_rows > 0, "autorec evaluation: rows [",
              first, ", ", first + count, ") of ", train.size(0), " in blocks of ", eval_rows);
  NoGradGuard ng;
  const bool was_training = model.is_training();
  model.eval();
  Tensor half_se;  // ½ Σ (ŷ − y)² over test entries, on the device
  for (int64_t start = first; start < first + count; start += eval_rows) {
    const int64_t len = std::min(eval_rows, first + count - start);
    Tensor part = masked_squared_error(model.forward(train.rows(start, len)), test.rows(start, len), Tensor(),
                                       Reduction::sum);
    half_se = half_se.defined() ? half_se + part : part;
  }
  model.train(was_training);
  return half_se.defined() ? static_cast<double>(half_se.item()) : 0.0;
}

double evaluate_autorec_rmse(models::RowModel& model, const Tensor& train, const Tensor& test, int64_t test_count,
                             int64_t eval_rows) {
  CUREC_CHECK(test_count > 0, "evaluate_autorec_rmse: no test ratings to evaluate");
  const double half_se = autorec_half_squared_error(model, train, test, 0, train.size(0), eval_rows);
  return std::sqrt(2.0 * half_se / static_cast<double>(test_count));
}

AutoRecTask::AutoRecTask(models::RowModel& model, const data::Interactions& train, const data::Interactions& test,
                         int64_t eval_rows)
    : model_(model), train_(train), test_(test), eval_rows_(eval_rows) {
  CUREC_CHECK(train.size() > 0, "autorec: the training set is empty");
  CUREC_CHECK(eval_rows > 0, "autorec: eval rows must be positive, got ", eval_rows);
}

int64_t AutoRecTask::rows() const {
  return model_.rows_are_items() ? train_.num_items : train_.num_users;
}

void AutoRecTask::to(Device device) {
  m_ = AutoRecMatrices::from(train_, test_, model_.rows_are_items(), device);
  CUREC_CHECK(m_.train.size(1) == model_.num_inputs(), model_.name(), ": the model takes ", model_.num_inputs(),
              " inputs per row but the rating matrix has ", m_.train.size(1), " columns; build it with num_inputs = ",
              m_.train.size(1));
}

BatchLoss AutoRecTask::loss(const Tensor& idx, const StepContext&) {
  Tensor x = data::take_rows(m_.train, idx);
  return {masked_squared_error(model_.forward(x), x, Tensor(), Reduction::sum) * (1.0f / static_cast<float>(idx.numel()))};
}

std::optional<EvalPlan> AutoRecTask::evaluation(EvalPart part) {
  if (part != EvalPart::test || test_.size() == 0) return std::nullopt;
  return rmse_plan(rows(), [this](int64_t first, int64_t count) {
    const double half = autorec_half_squared_error(model_, m_.train, m_.test, first, count, eval_rows_);
    return std::pair<double, int64_t>{2.0 * half, m_.test_before[first + count] - m_.test_before[first]};
  });
}

}  // namespace curec::train
