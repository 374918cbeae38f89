#pragma once
#include "train/experiment.h"

namespace curec::train {

// The course notes' deep rating network (models/deep_rating.h) on MovieLens-100K, random 90/10
// split, trained by train/rating_trainer.h with SGD + momentum 0.9. Metrics: test_rmse,
// train_loss and global_mean_rmse (the test RMSE of predicting the training mean everywhere).
RunResult run_deep_rating(const RunOptions& options);
// The residual rating network: the MF branch plus the same MLP branch, summed.
RunResult run_residual_rating(const RunOptions& options);

}  // namespace curec::train
