#pragma once
// AutoRec (any models::RowModel) as the book's §15.4 (and the PyTorch anchor's exp_autorec) trains it: the whole
// training rating matrix lives on the device as a dense f32 matrix (rows = items for the
// item-based model, users for the user-based one; 0 = unrated); an example is a row, and the
// loss is the mean over the batch of ½ Σ_observed (ŷ − y)² (unrated entries give no loss and no
// gradient). Scored by the RMSE over the test ratings ("test_rmse"), reconstructing every row
// from the TRAINING matrix.
#include <algorithm>
#include <vector>

#include "data/interactions.h"
#include "models/row_model.h"
#include "train/task.h"

namespace curec::train {

// The train and test ratings as dense matrices, a row an item (by_item) or a user, on one device.
struct AutoRecMatrices {
  Tensor train, test;      // f32 [rows, cols], 0 = no rating
  int64_t test_count = 0;  // ratings in `test`
  std::vector<int64_t> test_before;  // [rows + 1]: test ratings in rows [0, r)
  static AutoRecMatrices from(const data::Interactions& train, const data::Interactions& test, bool by_item,
                              Device device);
};

// ½ Σ (ŷ − y)² over the test entries of rows [first, first + count) of the model's
// reconstruction of `train` (eval mode, no gradients; one host read): a part of the RMSE.
double autorec_half_squared_error(models::RowModel& model, const Tensor& train, const Tensor& test, int64_t first,
                                  int64_t count, int64_t eval_rows = 4096);
// That RMSE over every row at once.
double evaluate_autorec_rmse(models::RowModel& model, const Tensor& train, const Tensor& test, int64_t test_count,
                             int64_t eval_rows = 4096);

class AutoRecTask : public Task {
 public:
  // eval_rows: rows reconstructed at once during evaluation.
  AutoRecTask(models::RowModel& model, const data::Interactions& train, const data::Interactions& test,
              int64_t eval_rows = 4096);
  std::string name() const override { return model_.name(); }
  nn::Module& module() override { return model_; }
  int64_t num_examples() const override { return rows(); }
  void to(Device device) override;
  BatchLoss loss(const Tensor& indices, const StepContext& context) override;
  std::optional<EvalPlan> evaluation(EvalPart part) override;
  // The book's rule: a batch is at most every row (a larger batch size takes them all).
  int64_t batch_of(int64_t batch_size) const { return std::min(batch_size, rows()); }

 private:
  int64_t rows() const;
  models::RowModel& model_;
  const data::Interactions& train_;
  const data::Interactions& test_;
  int64_t eval_rows_;
  AutoRecMatrices m_;
};

}  // namespace curec::train
