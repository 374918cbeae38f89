#pragma once
// What the rating experiments (MF, AutoRec, the deep rating nets) share: the book's per-epoch
// line and the result.
#include <string>

#include "train/experiment.h"
#include "train/rating_trainer.h"

namespace curec::train {

void print_rating_epoch(const EpochReport& e);
// train_loss and test_rmse of the last epoch, the timings, and the data and split they came from.
RunResult rating_result(const std::string& model, const RatingTrainResult& r, const std::string& data,
                        const std::string& split);

}  // namespace curec::train
