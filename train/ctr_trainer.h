#pragma once
// Training and evaluation of click-through-rate models (FM, DeepFM) as the book's §15.9/15.10
// loop does: binary cross-entropy, Adam, shuffled batches with the last partial batch rolled
// over, and after every epoch the test set's accuracy (p > 0.5), AUC and log loss.
// The columns live on the device and the training loss stays there until the epoch is logged.
// Evaluation copies the predicted probabilities to the host once per epoch (one sync) and
// computes the three metrics there: AUC needs a sort, and the test sets of the chapter are a
// few thousand rows.
//
// Early stopping (config.early_stop, on the validation AUC): the last tenth of the training rows is held out as a
// validation set, each epoch is scored by its validation AUC, and the parameters of the best
// epoch are restored at the end (device copies, no host round trip).
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "data/ctr.h"
#include "models/fm.h"
#include "train/trainer.h"

namespace curec::train {

// The book's settings. Early stopping (early_stop set, on "auc") holds out the last
// validation_fraction of the training rows.
struct CtrTrainConfig : TrainerConfig {
  CtrTrainConfig() {
    epochs = 30;
    batch_size = 2048;
    optimizer = nn::AdamOptions{.lr = 0.02f};
  }
  double validation_fraction = 0.1;
};

struct CtrMetrics {
  double accuracy = 0;  // share of rows with (p > 0.5) == label
  double auc = 0;       // NaN when the rows hold only one class
  double logloss = 0;   // mean BCE with p clamped to [1e-7, 1 - 1e-7]
};

struct CtrEpochReport {
  int epoch = 0;
  double train_loss = 0;  // mean BCE over the epoch's examples
  CtrMetrics test;        // NaNs without a test set
  double valid_auc = 0;   // NaN without early stopping
  double seconds = 0;     // training time of the epoch (evaluation excluded)
};

struct CtrTrainResult {
  std::vector<CtrEpochReport> epochs;
  int best_epoch = 0;           // early stop: the epoch whose parameters were restored; else the last
  double best_valid_auc = 0;    // NaN without early stopping
  CtrMetrics final_test;        // of the returned model (the restored one under early stopping)
  int64_t train_rows = 0, valid_rows = 0;
  double train_seconds = 0;
  double examples_per_sec = 0;
  double final_train_loss() const { return epochs.empty() ? 0 : epochs.back().train_loss; }
};

// Device-resident columns of CTR rows.
struct CtrColumns {
  Tensor fields;  // i32 [n, num_fields]
  Tensor labels;  // f32 [n]
  static CtrColumns from(const data::CtrData& d, Device device);
  int64_t size() const { return labels.defined() ? labels.numel() : 0; }
};

// The first rows and the last `fraction` of the rows (at least one row each), same encoding.
std::pair<data::CtrData, data::CtrData> split_tail(const data::CtrData& d, double fraction);

// Probabilities of the model for every row (eval mode, no gradients), copied to the host.
std::vector<float> predict_ctr(models::FactorizationMachine& model, const CtrColumns& rows, int64_t batch_size = 8192);
// Rows [first, first + count) only (count may be 0).
std::vector<float> predict_ctr(models::FactorizationMachine& model, const CtrColumns& rows, int64_t first,
                               int64_t count, int64_t batch_size = 8192);

// Area under the ROC curve by ranks: (Σ ranks of positives − P(P+1)/2) / (P·N), tied scores
// sharing their average rank. NaN when there are no positives or no negatives.
double auc(const std::vector<float>& scores, const std::vector<float>& labels);
CtrMetrics ctr_metrics(const std::vector<float>& probabilities, const std::vector<float>& labels);
CtrMetrics evaluate_ctr(models::FactorizationMachine& model, const CtrColumns& rows, int64_t batch_size = 8192);

CtrTrainResult train_ctr_model(models::FactorizationMachine& model, const data::CtrData& train,
                               const data::CtrData& test, const CtrTrainConfig& config,
                               TrainerHooks hooks = {});

}  // namespace curec::train
