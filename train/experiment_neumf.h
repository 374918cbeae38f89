#pragma once
#include "train/experiment.h"

namespace curec::train {

// Book §15.5: NeuMF on MovieLens-100K as implicit feedback, sequence-aware split (each user's
// latest interaction held out), 10 factors, MLP 10-10-10, BPR with one fresh negative per
// positive each epoch, Adam lr 0.01, wd 1e-5, 10 epochs, batch 1024. Ranks each user's test
// item among all items outside their training set: hit_at_50, auc, ndcg_at_10.
RunResult run_neumf(const RunOptions& options);

}  // namespace curec::train
