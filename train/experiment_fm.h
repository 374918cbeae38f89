#pragma once
// Book §15.9 (FM) and §15.10 (DeepFM) as experiments. RunOptions::data picks the rows:
//   "" or "synthetic"     planted-FM CTR rows shaped like the book's ad data (34 fields of 20
//                         values): 18,000 rows, the first 15,000 train, the rest test
//   "criteo" / "avazu"    the sample files in the default data folder
//   a file                Criteo, Avazu or the book's format, detected from the first line, or
//                         named as "criteo:PATH", "avazu:PATH", "d2l:PATH"; the first 80% of
//                         rows train, the last 20% test (Criteo 10k: 8,000 / 2,000), the
//                         feature maps (min count 4) learned from the training rows only
//   a folder              the book's ctr folder: train.csv and test.csv in its format
// FM: 20 factors, Adam lr 0.02; DeepFM: 10 factors, MLP 30-20-10 with dropout 0.1, lr 0.01;
// both 30 epochs of batch 2048 (rollover), BCE. Metrics: test_acc, auc, logloss, train_loss;
// with RunOptions::early_stop also best_epoch and valid_auc (the restored epoch's).
#include "train/experiment.h"

namespace curec::train {

RunResult run_fm(const RunOptions& options);
RunResult run_deepfm(const RunOptions& options);

}  // namespace curec::train
