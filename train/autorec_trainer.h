#pragma once
// Training of AutoRec as the book's §15.4 (and the PyTorch anchor's exp_autorec): the whole
// training rating matrix lives on the device as a dense f32 matrix (rows = items for the
// item-based model, users for the user-based one; 0 = unrated); each step takes a shuffled
// batch of rows (last partial batch rolled over), reconstructs them, and minimises the mean
// over the batch of ½ Σ_observed (ŷ − y)² — unrated entries give no loss and no gradient.
// Test RMSE is over the test ratings, reconstructing every row from the TRAINING matrix.
// Losses stay on the device; one host read per epoch.
#include "data/interactions.h"
#include "models/autorec.h"
#include "train/rating_trainer.h"  // EpochReport, RatingTrainResult

namespace curec::train {

// The book's settings; batch_size counts rows and is capped at the number of rows.
struct AutoRecTrainConfig : TrainerConfig {
  AutoRecTrainConfig() {
    epochs = 25;
    batch_size = 256;
    optimizer = nn::AdamOptions{.lr = 0.002f, .weight_decay = 1e-5f};
  }
  int64_t eval_rows = 4096;  // rows reconstructed at once during evaluation
};

// The train and test ratings as dense matrices in the model's orientation, on one device.
struct AutoRecMatrices {
  Tensor train, test;      // f32 [rows, cols], 0 = no rating
  int64_t test_count = 0;  // ratings in `test`
  std::vector<int64_t> test_before;  // [rows + 1]: test ratings in rows [0, r)
  static AutoRecMatrices from(const data::Interactions& train, const data::Interactions& test, models::AutoRecKind kind,
                              Device device);
};

// RMSE over the nonzero entries of `test` of the model's reconstruction of `train` (eval mode,
// no gradients). Syncs once.
double evaluate_autorec_rmse(models::AutoRec& model, const Tensor& train, const Tensor& test, int64_t test_count,
                             int64_t eval_rows = 4096);
// ½ Σ (ŷ − y)² over the test entries of rows [first, first + count) (one host read): a part of
// that RMSE, which data-parallel ranks share.
double autorec_half_squared_error(models::AutoRec& model, const Tensor& train, const Tensor& test, int64_t first,
                                  int64_t count, int64_t eval_rows = 4096);

// EpochReport.train_loss is the mean over the epoch's rows of ½ Σ_observed (ŷ − y)² per row;
// examples_per_sec counts rows.
RatingTrainResult train_autorec(models::AutoRec& model, const data::Interactions& train,
                                const data::Interactions& test, const AutoRecTrainConfig& config,
                                TrainerHooks hooks = {});

}  // namespace curec::train
