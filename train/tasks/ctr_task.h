#pragma once
// Click-through-rate rows (FM, DeepFM, any models::CtrModel) as the book's §15.9/15.10 loop
// trains them: binary cross-entropy on the logits, averaged over a batch; scored by the
// accuracy (p > 0.5), AUC and log loss of a part (metrics "accuracy", "auc", "logloss"). The
// predicted probabilities are read to the host once per evaluation: AUC needs a sort, and the
// chapter's test sets are a few thousand rows. A validation part (data::split_tail holds one
// out of the training rows) is what early stopping scores.
#include <string>
#include <vector>

#include "data/ctr.h"
#include "models/ctr_model.h"
#include "train/task.h"

namespace curec::train {

// Device-resident columns of CTR rows.
struct CtrColumns {
  Tensor fields;  // i32 [n, num_fields]
  Tensor labels;  // f32 [n]
  static CtrColumns from(const data::CtrData& d, Device device);
  int64_t size() const { return labels.defined() ? labels.numel() : 0; }
};

// Probabilities of the model for rows [first, first + count) (eval mode, no gradients), copied
// to the host; count may be 0.
std::vector<float> predict_ctr(models::CtrModel& model, const CtrColumns& rows, int64_t first, int64_t count,
                               int64_t batch_size = 8192);
// Every row's.
std::vector<float> predict_ctr(models::CtrModel& model, const CtrColumns& rows, int64_t batch_size = 8192);

class CtrTask : public Task {
 public:
  // validation: none when empty. The data must outlive the task.
  CtrTask(models::CtrModel& model, const data::CtrData& train, const data::CtrData& test,
          const data::CtrData& validation);
  std::string name() const override { return model_.name(); }
  nn::Module& module() override { return model_; }
  int64_t num_examples() const override { return train_.rows(); }
  void to(Device device) override;
  BatchLoss loss(const Tensor& indices, const StepContext& context) override;
  std::optional<EvalPlan> evaluation(EvalPart part) override;

 private:
  models::CtrModel& model_;
  const data::CtrData &train_, &test_, &valid_;
  CtrColumns tr_, te_, va_;
};

}  // namespace curec::train
