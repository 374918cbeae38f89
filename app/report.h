#pragma once
// What every recipe reports the same way: the epoch line, the trainer's hooks with it, the
// result's common fields.
#include <string>

#include "app/recipe.h"
#include "train/ranking_trainer.h"
#include "train/rating_trainer.h"
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
// The settings' epoch hook called for a sweep of ALS or BPMF, as the trainer would for an epoch.
void report_sweep(const RunSettings& s, const train::EpochRecord& r);

// The result of a rating run (train_loss, test_rmse) and of a ranking run (Hit@50, AUC, NDCG@10).
RunResult rating_result(const std::string& model, const train::RatingTrainResult& r, const std::string& data,
                        const std::string& split);
RunResult ranking_result(const std::string& model, const train::RankingTrainResult& r, const std::string& data,
                         const std::string& ranking);

}  // namespace curec::app
