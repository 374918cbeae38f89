#pragma once
// A model that ranks items for a user from implicit feedback: NeuMF, Caser. The ranking task
// (train/tasks/ranking_task.h) trains it on (positive, sampled negative) pairs and evaluates it
// by ranking every item, through this interface only.
#include <string>
#include <utility>

#include "core/tensor.h"
#include "nn/module.h"

namespace curec::models {

class RankingModel : public nn::Module {
 public:
  virtual std::string name() const = 0;
  // Scores of the positive and the negative item of a batch of training rows: users i32/i64
  // [n], `context` the rows' extra input (Caser's previous items [n, L]; undefined for a model
  // that takes none). Returns (ŷ⁺, ŷ⁻), f32 [n] each.
  virtual std::pair<Tensor, Tensor> score_pairs(const Tensor& users, const Tensor& context, const Tensor& positives,
                                                const Tensor& negatives) = 0;
  // f32 [n, num_items] for users i32 [n], given each user's context at evaluation (Caser: their
  // last L training items; undefined for a model that takes none).
  virtual Tensor score_all_items(const Tensor& users, const Tensor& context) = 0;
  // The previous items a prediction sees (Caser's L): its context is then a user's last L items,
  // and training rows are windows of a user's sequence. 0: no context, rows are (user, item) pairs.
  virtual int64_t context_length() const { return 0; }
};

}  // namespace curec::models
