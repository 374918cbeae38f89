#pragma once
// A model that predicts a user's next item from the items before it: SASRec and any other
// sequential recommender. The sequence task (train/tasks/sequence_task.h) trains it and the
// sequence evaluation (train/sequence_eval.h) scores it through this interface only.
//
// Item ids are sequence ids: dense item id + 1, so that 0 is the padding. Inputs are
// left-padded: row b of seqs [B, T] (i64, T = max_length()) holds its most recent item in
// column T - 1 and zeros before its oldest.
#include <cstdint>
#include <string>
#include <utility>

#include "core/tensor.h"
#include "nn/module.h"

namespace curec::models {

class SequenceModel : public nn::Module {
 public:
  virtual std::string name() const = 0;
  virtual int64_t max_length() const = 0;  // T, the input length
  virtual int64_t num_items() const = 0;   // sequence ids run 1..num_items

  // Training: the logits of each position's next item and of its sampled negative, from what
  // the sequence holds up to and including that position. seqs, positives, negatives: i64
  // [B, T]; returns f32 [B, T] each (the caller masks padded positions).
  virtual std::pair<Tensor, Tensor> score_next(const Tensor& seqs, const Tensor& positives,
                                               const Tensor& negatives) = 0;
  // Scores of candidates for the item after the whole sequence: candidates i64 [B, C] ->
  // f32 [B, C].
  virtual Tensor score(const Tensor& seqs, const Tensor& candidates) = 0;
  // The same for the whole catalogue: f32 [B, num_items + 1], column j for sequence id j
  // (column 0, the padding, is never ranked).
  virtual Tensor score_all_items(const Tensor& seqs) = 0;
};

}  // namespace curec::models
