#pragma once
#include "train/experiment.h"

namespace curec::train {

// Book §15.3: MF on MovieLens-100K, random 90/10 split, 30 factors, Adam lr 0.002, wd 1e-5,
// 20 epochs, batch 512, L2 loss; prints each epoch's train loss and test RMSE.
RunResult run_mf(const RunOptions& options);

}  // namespace curec::train
