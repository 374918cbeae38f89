#pragma once
#include "train/experiment.h"

namespace curec::train {

// Book §15.4: item-based AutoRec on MovieLens-100K, random 90/10 split, 500 sigmoid hidden
// units (RunOptions.factors overrides), dropout 0.05, Adam lr 0.002, wd 1e-5, 25 epochs of 256
// item rows, masked L2 loss; prints each epoch's train loss and test RMSE.
RunResult run_autorec(const RunOptions& options);

}  // namespace curec::train
