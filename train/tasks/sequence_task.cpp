#include "train/tasks/sequence_task.h"

#include "data/take.h"
#include "ops/elementwise.h"
#include "ops/loss.h"
#include "ops/reduce.h"

namespace curec::train {

SequenceTask::SequenceTask(models::SequenceModel& model, const data::SequenceSplit& split, SequenceOptions options)
    : model_(model), split_(split), o_(options) {
  CUREC_CHECK(model.num_items() == split.num_items(), model.name(), " scores ", model.num_items(),
              " items, but the data has ", split.num_items(), "; build the model for the data's item count");
  CUREC_CHECK(model.max_length() >= 1, model.name(), ": the input length (maxlen) must be at least 1, got ",
              model.max_length());
  examples_ = data::next_item_examples(split.train, model.max_length());
}

void SequenceTask::to(Device device) {
  const int64_t T = model_.max_length();
  for (Tensor* t : {&examples_.users, &examples_.inputs, &examples_.positives, &examples_.mask}) *t = t->to(device);
  negatives_ = std::make_unique<data::NegativeSampler>(data::next_item_negatives(split_.train, T, o_.seed, device));
  valid_ = SequenceEvalSet::make(split_, EvalPart::validation, T, o_.eval, device);
  test_ = SequenceEvalSet::make(split_, EvalPart::test, T, o_.eval, device);
}

BatchLoss SequenceTask::loss(const Tensor& idx, const StepContext& ctx) {
  CUREC_CHECK(negatives_, name(), ": the task has not been placed on a device (the Trainer calls to())");
  const int64_t n = idx.numel(), T = examples_.maxlen;
  Tensor seqs = data::take_rows(examples_.inputs, idx), pos = data::take_rows(examples_.positives, idx);
  Tensor mask = data::take_rows(examples_.mask, idx);
  Tensor neg = negatives_->sample(data::take_rows(examples_.users, idx), static_cast<uint64_t>(ctx.epoch),
                                  ctx.position);
  auto [pl, nl] = model_.score_next(seqs, pos, neg);
  CUREC_CHECK(pl.shape() == Shape({n, T}) && nl.shape() == Shape({n, T}), name(),
              ": score_next must give [batch, maxlen] logits");
  Tensor terms = bce_with_logits(pl, Tensor::ones({n, T}, pl.device()), Reduction::none) +
                 bce_with_logits(nl, Tensor::zeros({n, T}, DType::f32, nl.device()), Reduction::none);
  return {sum(terms * mask) * static_cast<float>(1.0 / (static_cast<double>(n) * examples_.mean_positions))};
}

std::optional<EvalPlan> SequenceTask::evaluation(EvalPart part) {
  const bool test = part == EvalPart::test;
  return sequence_eval_plan(model_, test ? test_ : valid_, o_.eval.k, test && o_.eval.full_ranking,
                            o_.eval.chunk_users);
}

}  // namespace curec::train
