#pragma once
// Training of implicit-feedback ranking models (D2L §15.5-15.7: NeuMF, Caser) as the book's
// train_ranking does: every training row (a user's positive item, for Caser with the L items
// before it) is paired with one item the user never interacted with, drawn afresh each epoch
// (data/negative_sampler.h, exact, on the device), and the model learns to score the positive
// above it with the BPR loss −ln σ(ŷ⁺ − ŷ⁻) (or the hinge max(0, m − ŷ⁺ + ŷ⁻)). The gradient is
// that of the batch mean (the book's Trainer.step(batch_size) on a summed loss). Adam; shuffled
// batches with the last partial batch rolled over. Every eval_every epochs (and after the last)
// each user's held-out item is ranked among all items outside their training set
// (train/ranking_eval.h): Hit@hit_k, AUC, NDCG@ndcg_k.
//
// The columns live on the device; the loss stays there until the epoch is logged.
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "data/interactions.h"
#include "data/negative_sampler.h"
#include "data/sequence.h"
#include "models/caser.h"
#include "models/neumf.h"
#include "train/ranking_eval.h"
#include "train/trainer.h"

namespace curec::train {

enum class RankingLoss { bpr, hinge };
RankingLoss parse_ranking_loss(const std::string& name);  // "bpr" | "hinge"

// The book's train_ranking settings; the model-specific part beside the Trainer's own.
struct RankingTrainConfig : TrainerConfig {
  RankingTrainConfig() {
    epochs = 10;
    batch_size = 1024;
    optimizer = nn::AdamOptions{.lr = 0.01f, .weight_decay = 1e-5f};
  }
  RankingLoss loss = RankingLoss::bpr;
  float margin = 1.0f;  // hinge only
  int hit_k = 50, ndcg_k = 10;
  int64_t eval_chunk_users = 256;  // users scored together (memory ~ chunk x items x model width)
};

struct RankingEpochReport {
  int epoch = 0;
  double train_loss = 0;   // mean per-pair loss over the epoch
  bool evaluated = false;  // the metrics below are NaN when not
  double hit = 0, auc = 0, ndcg = 0;
  double seconds = 0;      // training time of the epoch (evaluation excluded)
};

struct RankingTrainResult {
  std::vector<RankingEpochReport> epochs;
  RankingEpochReport last_evaluated() const;  // the last epoch with metrics
  double train_seconds = 0;
  double examples_per_sec = 0;  // training pairs per second
};

// An implicit-feedback model as the trainer sees it.
class RankingScorer {
 public:
  virtual ~RankingScorer() = default;
  virtual nn::Module& module() = 0;
  virtual std::string name() const = 0;
  // Scores of the positive and the negative item of a batch of training rows; `context` is the
  // rows' extra input (Caser's sequences; undefined for NeuMF). Returns (ŷ⁺, ŷ⁻), f32 [n] each.
  virtual std::pair<Tensor, Tensor> score_pairs(const Tensor& users, const Tensor& context, const Tensor& positives,
                                                const Tensor& negatives) = 0;
  // f32 [n, num_items] for users i32 [n] (called in eval mode without gradients).
  virtual Tensor score_all_items(const Tensor& users) = 0;
};

class NeuMFScorer : public RankingScorer {
 public:
  explicit NeuMFScorer(models::NeuMF& model) : model_(model) {}
  nn::Module& module() override { return model_; }
  std::string name() const override { return "neumf"; }
  std::pair<Tensor, Tensor> score_pairs(const Tensor& users, const Tensor& context, const Tensor& positives,
                                        const Tensor& negatives) override;
  Tensor score_all_items(const Tensor& users) override { return model_.score_all_items(users); }

 private:
  models::NeuMF& model_;
};

// Computes the sequence representation once per row and scores both items against it (the
// book calls the network twice, drawing two dropout masks; here both items see one).
class CaserScorer : public RankingScorer {
 public:
  // test_sequences: i64 [num_users, L], each user's last L training items (data/sequence.h).
  CaserScorer(models::Caser& model, Tensor test_sequences) : model_(model), test_sequences_(std::move(test_sequences)) {}
  nn::Module& module() override { return model_; }
  std::string name() const override { return "caser"; }
  std::pair<Tensor, Tensor> score_pairs(const Tensor& users, const Tensor& context, const Tensor& positives,
                                        const Tensor& negatives) override;
  Tensor score_all_items(const Tensor& users) override;

 private:
  models::Caser& model_;
  Tensor test_sequences_;
};

// Training rows on one device.
struct RankingExamples {
  Tensor users;      // i32/i64 [n]
  Tensor positives;  // i32/i64 [n]
  Tensor context;    // [n, ...] or undefined
  int64_t size() const { return users.defined() ? users.numel() : 0; }
};

// What the evaluator ranks against: the users' training items (excluded from the candidates)
// and each user's held-out item.
struct RankingEvalSet {
  int64_t num_users = 0, num_items = 0;
  Tensor train_row_ptr;  // i64 [num_users + 1]
  Tensor train_cols;     // i32 [nnz], increasing per user
  Tensor test_items;     // i32 [num_users], -1 for a user without a test item
  // test holds at most one row per user (the sequence-aware split's last interaction).
  static RankingEvalSet from(const data::Interactions& train, const data::Interactions& test, Device device);
};

struct RankingEvalResult {
  double hit = 0, auc = 0, ndcg = 0;
  int64_t users = 0;
};
// One scoring pass and one count per user feed Hit@hit_k, AUC and NDCG@ndcg_k. Switches the
// model to eval mode and back.
RankingEvalResult evaluate_ranking_model(RankingScorer& scorer, const RankingEvalSet& eval, int hit_k = 50,
                                         int ndcg_k = 10, int64_t chunk_users = 256);
// The accumulator's sums (ranking_math's slots) over users [first, first + count) only: a part
// of that evaluation, which data-parallel ranks share (RankingAccumulator::metrics_of adds up).
std::vector<double> ranking_sums(RankingScorer& scorer, const RankingEvalSet& eval, int64_t first, int64_t count,
                                 int hit_k = 50, int ndcg_k = 10, int64_t chunk_users = 256);


// The general loop: `negatives` must hold the training positives of every user (k = 1) on
// config.device; the scorer's model is moved there.
RankingTrainResult train_ranking(RankingScorer& scorer, const RankingExamples& train, const RankingEvalSet& eval,
                                 const data::NegativeSampler& negatives, const RankingTrainConfig& config,
                                 TrainerHooks hooks = {});

// NeuMF over the (user, item) rows of `train`; evaluation against `test` (one row per user).
RankingTrainResult train_neumf(models::NeuMF& model, const data::Interactions& train, const data::Interactions& test,
                               const RankingTrainConfig& config, TrainerHooks hooks = {});
// Caser over the windows of `train` (data/sequence.h, L from the model); evaluation ranks each
// user's test item given their last L training items.
RankingTrainResult train_caser(models::Caser& model, const data::Interactions& train, const data::Interactions& test,
                               const RankingTrainConfig& config, TrainerHooks hooks = {});

}  // namespace curec::train
