#pragma once
// Next-item training of a models::SequenceModel as SASRec is trained (Kang & McAuley 2018, eq. 4;
// the authors' code): an example is a user's training sequence (data/next_item_examples.h); at
// every unpadded position the model's logit for the item that came next is pushed up and its
// logit for one sampled item outside the user's training sequence pushed down, by binary
// cross-entropy with logits:
//   ℓ(example) = Σ_t mask_t · [bce(ŷ⁺_t, 1) + bce(ŷ⁻_t, 0)] / c̄,
// where c̄ is the mean number of unpadded positions per training example (a constant), and the
// batch loss is the mean of ℓ over its examples. The authors divide each batch's sum by that
// batch's own count of positions instead; dividing by the data set's mean keeps the loss a mean
// over examples (train/task.h), so data-parallel ranks that split a batch average to the same
// gradient as one rank, and it has the same expectation. Negatives are redrawn every epoch,
// keyed by (seed, epoch, position), on the training device.
//
// Evaluation (train/sequence_eval.h): validation "hr_at_K", "ndcg_at_K" on the validation item;
// test the same on the test item, plus "full_hr_at_K", "full_ndcg_at_K" (all items ranked).
#include <cstdint>
#include <memory>
#include <optional>

#include "data/negative_sampler.h"
#include "data/next_item_examples.h"
#include "data/sequence_split.h"
#include "models/sequence_model.h"
#include "train/sequence_eval.h"
#include "train/task.h"

namespace curec::train {

struct SequenceOptions {
  uint64_t seed = 0;             // of the training negatives
  SequenceEvalOptions eval;      // the evaluation protocol (k, 100 negatives, its seed, full ranking)
};

class SequenceTask : public Task {
 public:
  // `split` must outlive the task (data::split_last_two).
  SequenceTask(models::SequenceModel& model, const data::SequenceSplit& split, SequenceOptions options = {});
  std::string name() const override { return model_.name(); }
  nn::Module& module() override { return model_; }
  int64_t num_examples() const override { return examples_.size(); }
  void to(Device device) override;
  BatchLoss loss(const Tensor& indices, const StepContext& context) override;
  std::optional<EvalPlan> evaluation(EvalPart part) override;

  const data::NextItemExamples& examples() const { return examples_; }

 private:
  models::SequenceModel& model_;
  const data::SequenceSplit& split_;
  SequenceOptions o_;
  data::NextItemExamples examples_;
  std::unique_ptr<data::NegativeSampler> negatives_;
  SequenceEvalSet valid_, test_;
};

}  // namespace curec::train
