#pragma once
// Implicit-feedback ranking (D2L §15.5-15.7: NeuMF, Caser, any models::RankingModel) as the
// book's train_ranking trains it: every training row (a user's positive item; with a context
// length L, the L items before it too) is paired with one item the user never interacted with,
// drawn afresh each epoch and keyed by (epoch, position) (data/negative_sampler.h, exact, on
// the device), and the model learns to score the positive above it with the BPR loss
// −ln σ(ŷ⁺ − ŷ⁻) or the hinge max(0, m − ŷ⁺ + ŷ⁻), averaged over the batch. Scored by ranking
// each user's held-out item among all items outside their training set (train/ranking_eval.h):
// metrics "hit_at_<hit_k>", "auc", "ndcg_at_<ndcg_k>".
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "data/interactions.h"
#include "data/negative_sampler.h"
#include "models/ranking_model.h"
#include "train/ranking_eval.h"
#include "train/task.h"

namespace curec::train {

enum class RankingLoss { bpr, hinge };
RankingLoss parse_ranking_loss(const std::string& name);  // "bpr" | "hinge"

struct RankingOptions {
  RankingLoss loss = RankingLoss::bpr;
  float margin = 1.0f;  // hinge only
  int hit_k = 10, ndcg_k = 10;
  int64_t eval_chunk_users = 256;  // users scored together (memory ~ chunk x items x model width)
  uint64_t seed = 0;               // of the negatives
};

// What the evaluator ranks against: the users' training items (excluded from the candidates),
// each user's held-out item, and each user's context (their last L training items; undefined
// for a model without one).
struct RankingEvalSet {
  int64_t num_users = 0, num_items = 0;
  Tensor train_row_ptr;  // i64 [num_users + 1]
  Tensor train_cols;     // i32 [nnz], increasing per user
  Tensor test_items;     // i32 [num_users], -1 for a user without a test item
  Tensor context;        // [num_users, L] or undefined
  // test holds at most one row per user (the sequence-aware split's last interaction).
  static RankingEvalSet from(const data::Interactions& train, const data::Interactions& test, Device device);
};

// The accumulator's sums (ranking_math's slots) over users [first, first + count): a part of
// the evaluation, which data-parallel ranks share (RankingAccumulator::metrics_of adds up).
std::vector<double> ranking_sums(models::RankingModel& model, const RankingEvalSet& eval, int64_t first, int64_t count,
                                 int hit_k, int ndcg_k, int64_t chunk_users = 256);
// Hit@hit_k, AUC and NDCG@ndcg_k over every user, from one scoring pass (eval mode, no gradients).
RankingMetrics evaluate_ranking_model(models::RankingModel& model, const RankingEvalSet& eval, int hit_k, int ndcg_k,
                                      int64_t chunk_users = 256);

class RankingTask : public Task {
 public:
  // test: one held-out row per user (data::split_seq_aware).
  RankingTask(models::RankingModel& model, const data::Interactions& train, const data::Interactions& test,
              RankingOptions options = {});
  std::string name() const override { return model_.name(); }
  nn::Module& module() override { return model_; }
  int64_t num_examples() const override { return rows_; }
  void to(Device device) override;
  BatchLoss loss(const Tensor& indices, const StepContext& context) override;
  std::optional<EvalPlan> evaluation(EvalPart part) override;

 private:
  Metrics metrics(const RankingMetrics& m) const;

  models::RankingModel& model_;
  const data::Interactions& train_;
  const data::Interactions& test_;
  RankingOptions o_;
  int64_t rows_ = 0;
  Tensor users_, positives_, context_;  // the training rows on the device (context: [n, L] or undefined)
  std::unique_ptr<data::NegativeSampler> negatives_;
  RankingEvalSet eval_;
};

}  // namespace curec::train
