#pragma once
// Training and evaluation of explicit-rating models (MF, the deep and residual rating nets) as
// the book's train_recsys_rating does: L2 loss ½(ŷ−y)², Adam, shuffled batches with the last
// partial batch rolled over, test RMSE after every epoch. The data lives on the device; losses
// and metrics stay there until an epoch is logged.
#include <functional>
#include <string>
#include <vector>

#include "data/interactions.h"
#include "models/rating_model.h"
#include "train/trainer.h"

namespace curec::train {

// The book's train_recsys_rating settings; everything but `fused` is the Trainer's own.
struct RatingTrainConfig : TrainerConfig {
  RatingTrainConfig() {
    epochs = 20;
    batch_size = 512;
    optimizer = nn::AdamOptions{.lr = 0.002f, .weight_decay = 1e-5f};
  }
  // MF only: each step is one fused forward+loss+backward kernel (ops/mf_step.h) instead of
  // autograd; the same gradients, summed in another order on CUDA.
  bool fused = false;
};

struct EpochReport {
  int epoch = 0;
  double train_loss = 0;  // mean ½(ŷ−y)² over the epoch's examples
  double test_rmse = 0;
  double seconds = 0;     // training time of the epoch (evaluation excluded)
};

struct RatingTrainResult {
  std::vector<EpochReport> epochs;
  double train_seconds = 0;
  double examples_per_sec = 0;  // training examples processed per second
  double final_train_loss() const { return epochs.empty() ? 0 : epochs.back().train_loss; }
  double final_test_rmse() const { return epochs.empty() ? 0 : epochs.back().test_rmse; }
};

// Device-resident columns of a set of ratings.
struct RatingColumns {
  Tensor users, items;  // i32 [n]
  Tensor ratings;       // f32 [n]
  static RatingColumns from(const data::Interactions& d, Device device);
  int64_t size() const { return users.defined() ? users.numel() : 0; }
};

// RMSE of the model over all rows (batched, no gradients).
double evaluate_rmse(models::RatingModel& model, const RatingColumns& rows, int64_t batch_size = 8192);
// Σ (ŷ − y)² over rows [first, first + count) and count: a part of the RMSE (one host read).
std::pair<double, int64_t> squared_error_total(models::RatingModel& model, const RatingColumns& rows, int64_t first,
                                               int64_t count, int64_t batch_size = 8192);
// The same RMSE as an evaluation data-parallel ranks share (rows are its units).
EvalPlan rating_rmse_plan(models::RatingModel& model, const RatingColumns& rows, int64_t batch_size = 8192);

// The rating view of the trainer's records (test_rmse).
EpochReport rating_epoch(const EpochRecord& r);
RatingTrainResult rating_train_result(const TrainResult& t);
RatingTrainResult train_rating_model(models::RatingModel& model, const data::Interactions& train,
                                     const data::Interactions& test, const RatingTrainConfig& config,
                                     TrainerHooks hooks = {});

}  // namespace curec::train
