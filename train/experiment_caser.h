#pragma once
#include "train/experiment.h"

namespace curec::train {

// Book §15.7: Caser on MovieLens-100K as implicit feedback, sequence-aware split, L = 5,
// d = 16, d' = 4, dropout 0.05, 10 factors, BPR over the windows of each user's training
// sequence, Adam lr 0.04, wd 1e-5, 8 epochs, batch 4096; hit_at_50, auc, ndcg_at_10 ranking
// each user's test item given their last 5 training items.
RunResult run_caser(const RunOptions& options);

}  // namespace curec::train
