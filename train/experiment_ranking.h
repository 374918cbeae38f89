#pragma once
// What the ranking experiments (NeuMF, Caser) share: the book's per-epoch line and the result.
#include <string>

#include "train/experiment.h"
#include "train/ranking_trainer.h"

namespace curec::train {

void print_ranking_epoch(const RankingEpochReport& e);
// The book's schedule for a ranking model (epochs, batch size, Adam lr; weight decay 1e-5),
// each overridden by its flag in `o`; quiet runs evaluate only after the last epoch.
RankingTrainConfig ranking_config(const RunOptions& o, int epochs, int64_t batch_size, float lr);
// Headline metrics (hit_at_50, auc, ndcg_at_10) of the last evaluated epoch, and the timings.
RunResult ranking_result(const std::string& model, const RankingTrainResult& r, const std::string& data,
                         const std::string& ranking);

}  // namespace curec::train
