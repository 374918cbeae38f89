#pragma once
// What every recipe reports the same way: the epoch line, the trainer's hooks with it, the
// result's common fields.
#include <string>

#include "app/recipe.h"
#include "train/trainer.h"

namespace curec::app {

// The trainer config a run uses: the recipe's, with where and how it runs (seed, device,
// shard) from the settings, which own them; a recipe config that sets them itself is an error
// rather than silently overridden.
void take_run_settings(train::TrainerConfig& config, const RunSettings& s);

// "epoch 3, train loss 0.512, test_rmse 0.951 (0.42 s)".
// "epoch 3, train loss 0.1234, test_rmse 0.9123 (0.52 s)", printed whole (one write) after `prefix`.
void print_epoch(const train::EpochRecord& r, const std::string& prefix = "");
// The settings' hooks, with the epoch line printed first when verbose.
train::TrainerHooks run_hooks(const RunSettings& s);

// The result of a run as the tool reports it: the last epoch's train_loss and the returned
// model's test metrics under the task's names (test_rmse; hit_at_<k>, auc, ndcg_at_<k>; ...),
// the epochs, the speed; `data` and `split` as its info.
RunResult run_result(const std::string& model, const train::TrainResult& r, const std::string& data,
                     const std::string& split);

}  // namespace curec::app
