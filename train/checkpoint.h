#pragma once
// A training checkpoint: everything a run needs to continue as if it had never stopped — the
// model, the optimizer's state, every generator's position, the sampler's position, the epoch,
// the metric history and the early-stopping state — in one state-dict file (nn/serialize.h),
// written to a temporary file and renamed, so a crash never leaves a torn file and never
// destroys the previous checkpoint.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "data/batch_sampler.h"
#include "nn/state_dict.h"
#include "train/trainer.h"

namespace curec::train {

struct Checkpoint {
  std::string task;  // the model's name
  int epoch = 0;     // epochs completed
  int64_t batch_size = 0;
  uint64_t seed = 0;
  nn::StateDict model, optimizer, best;  // best: early stopping's best parameters (may be empty)
  data::BatchSampler::State sampler;
  std::map<std::string, uint64_t> generators;  // module generator path -> offset
  std::vector<EpochRecord> history;
  int best_epoch = 0;
  double best_value = 0;
  int epochs_since_best = 0;
  double first_batch_loss = -1;
  // The updater's position (train/updater.h) and its rule, described: the schedule resumes where
  // it stood, and only under the rule that wrote it.
  int64_t updates = 0;
  std::string update_rule;
};

// The update rule and the parameter groups of `c`, as a checkpoint records them.
std::string update_rule_of(const TrainerConfig& c);

void write_checkpoint(const std::string& path, const Checkpoint& c);
// A missing, damaged or foreign file is an error naming it.
Checkpoint read_checkpoint(const std::string& path);

// What a run continuing from `c` (read from `path`) must agree with: the model's name, the batch
// size and the seed; and it must ask for more epochs than `c` has done. Errors name the file and
// what differs. Models trained by sweeps (ALS, BPMF) checkpoint with batch size 0 and count
// sweeps as epochs.
void check_resumable(const Checkpoint& c, const std::string& path, const std::string& task, int64_t batch_size,
                     uint64_t seed, int epochs);

}  // namespace curec::train
