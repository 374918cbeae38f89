#include "train/experiment_rating.h"

#include <cstdio>

namespace curec::train {

void print_rating_epoch(const EpochReport& e) {
  std::printf("epoch %d, train loss %.3f, test RMSE %.3f (%.2f s)\n", e.epoch, e.train_loss, e.test_rmse, e.seconds);
}

RunResult rating_result(const std::string& model, const RatingTrainResult& r, const std::string& data,
                        const std::string& split) {
  RunResult out;
  out.model = model;
  out.epochs = static_cast<int>(r.epochs.size());
  out.metrics["train_loss"] = r.final_train_loss();
  out.metrics["test_rmse"] = r.final_test_rmse();
  out.train_seconds = r.train_seconds;
  out.examples_per_sec = r.examples_per_sec;
  out.info["data"] = data;
  out.info["split"] = split;
  return out;
}

}  // namespace curec::train
