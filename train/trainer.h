#pragma once
// The one training engine: every model trains through Trainer::fit with a Task (train/task.h)
// that says how a batch becomes a loss and how the model is scored; the ready tasks are in
// train/tasks/. A step may also be a sweep of exact solves or a Gibbs sample (no backward):
// then an epoch is one such step. A loop of one's own calls step() and evaluate() instead.
//
// An epoch: the sampler's shuffled batches (data/batch_sampler.h; the last partial batch
// rolled over by default, as the book does), each step zero_grad -> task loss -> backward ->
// hooks.after_backward (where data parallelism exchanges gradients) -> the update
// (train/updater.h: the schedule's learning rate, clipping of the averaged gradients, the
// optimizer step). Losses stay on the device; the epoch's mean is read once at its end. Then
// the divergence guard, evaluation, early stopping, the checkpoint, and the epoch callback.
#include <atomic>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/device.h"
#include "data/batch_sampler.h"
#include "nn/optimizer_config.h"
#include "nn/optimizer_groups.h"
#include "train/task.h"
#include "train/updater.h"

namespace curec::train {

struct EarlyStopping {
  std::string metric;  // a validation metric the task reports, e.g. "auc"
  // Validations without improvement after which training stops; 0 runs every epoch. Either way
  // the parameters of the best epoch are restored at the end.
  int patience = 0;
  // Validate after every `every`-th epoch and after the last (SASRec's protocol: every 20).
  int every = 1;
};

// This process's part of a data-parallel run: each global batch is cut into world_size
// contiguous shards and rank r trains on shard r (see shard_of).
struct Sharding {
  int rank = 0;
  int world_size = 1;
};

struct TrainerConfig {
  int epochs = 10;
  int64_t batch_size = 256;                 // the global batch
  nn::OptimizerConfig optimizer = nn::AdamOptions{};
  // single: every parameter takes the optimizer's weight decay; no_decay: biases and 1-D
  // weights take none (nn/optimizer_groups.h).
  nn::GroupRule param_groups = nn::GroupRule::single;
  // The learning-rate schedule and gradient clipping (train/updater.h); written into
  // checkpoints, and a resumed run must have the same.
  UpdateRule update;
  uint64_t seed = 0;                        // batch order
  Device device = Device::cpu();
  data::LastBatch last_batch = data::LastBatch::rollover;
  int eval_every = 1;                       // test metrics after every eval_every-th epoch and the last; 0: last only
  std::optional<EarlyStopping> early_stop;  // needs a task with a validation part
  std::string checkpoint;                   // written after every epoch when set (atomically), by rank 0
  std::string resume;                       // a checkpoint to continue from when set
  // The guard stops a run whose epoch loss is not finite, or exceeds this many times the loss
  // of its very first batch (an exploding run, before it reaches infinity).
  double divergence_factor = 100.0;
  Sharding sharding;
};

// The one record of an epoch, for every task: its metrics by name, as the task names them
// (the tool's tables, --json and logs are written from these).
struct EpochRecord {
  int epoch = 0;
  double train_loss = 0;  // mean batch loss over the epoch, weighted by batch size
  double seconds = 0;     // training time (evaluation excluded)
  bool evaluated = false;
  Metrics test;           // when evaluated
  Metrics validation;     // under early stopping
};

struct TrainResult {
  std::vector<EpochRecord> history;
  int best_epoch = 0;     // early stopping: the restored epoch; else the last
  Metrics final_test;     // of the returned model: the last epoch's, or the restored epoch's under early stopping
  double train_seconds = 0;
  int64_t examples = 0;         // trained on in this run by every rank together (the global batches')
  double examples_per_sec = 0;  // examples / train seconds of this run
  int resumed_from = 0;   // the checkpoint's epoch, 0 for a fresh run
  bool stopped_early = false;
  double final_train_loss() const { return history.empty() ? 0 : history.back().train_loss; }
  // The validation metrics of the best epoch (early stopping); empty without.
  const Metrics& best_validation() const;
};

struct TrainerHooks {
  // Once, after the model moved to the device and a checkpoint (if any) was loaded: data
  // parallelism checks the ranks' parameter lists and broadcasts rank 0's values here.
  std::function<void(nn::Module& model)> on_start;
  // After the forward pass, before backward, with this rank's share of the global batch (its
  // examples / the global batch's): what backward is to call as each parameter's gradient
  // completes, or {} (data parallelism all-reduces the buckets that complete while backward
  // goes on). Called every step, whether or not the task's loss runs a backward.
  std::function<BackwardObserver(const StepContext&, double share)> before_backward;
  // Between backward and the optimizer step, with the same share: data parallelism averages
  // gradients here (finishing what before_backward started).
  std::function<void(const StepContext&, double share)> after_backward;
  // The epoch's mean loss over every rank, from this rank's mean over its `count` examples
  // (data parallelism: every rank then reports, and guards against, the same loss).
  std::function<double(double mean, int64_t count)> combine_loss;
  // Every rank's numbers concatenated in rank order (data parallelism: an all-gather), so that
  // the ranks share an evaluation (Task::evaluation); without it every rank runs it whole.
  std::function<std::vector<double>(const std::vector<double>& mine)> gather;
  // After every step, no host sync: progress bars.
  std::function<void(int epoch, int64_t step, int64_t steps_in_epoch, int64_t examples)> on_step;
  std::function<void(const EpochRecord&)> on_epoch;
  // Polled between steps; when it returns true the run stops with an Interrupted error after
  // the step (no file is left half written).
  std::function<bool()> should_stop;
};

// Thrown when hooks.should_stop asked the run to stop.
struct Interrupted : Error {
  using Error::Error;
};

// Rank r's contiguous part of a batch of n examples: [first, first + count).
struct Shard {
  int64_t first = 0, count = 0;
};
Shard shard_of(int64_t n, const Sharding& s);

class Trainer {
 public:
  Trainer(Task& task, TrainerConfig config, TrainerHooks hooks = {});
  // config.epochs epochs (from a checkpoint when config.resume is set), evaluated, guarded,
  // checkpointed as the config says.
  TrainResult fit();
  // A loop of one's own: one training step on a whole batch (i64 positions among the task's
  // examples, on config.device): zero_grad, the task's loss, backward, the hooks, the optimizer
  // step. Returns the batch's mean loss, on the device (reading it is a host sync).
  Tensor step(const Tensor& indices, const StepContext& context = {});
  // The task's metrics on a part of its data now (eval mode and no gradients while it runs).
  Metrics evaluate(EvalPart part = EvalPart::test);
  nn::Optimizer& optimizer();

 private:
  void prepare();  // the model and data on the device, the optimizer and the sampler; once
  Tensor run_step(const Tensor& idx, const StepContext& ctx, const Shard& shard);
  void run_epoch(int epoch, EpochRecord& record, int64_t& examples);
  [[noreturn]] void diverged(int epoch, const Tensor& step_losses, double limit) const;
  void evaluate_epoch(EpochRecord& record, bool last_epoch);
  bool has(EvalPart part) { return task_.evaluation(part).has_value(); }
  void save_checkpoint(int epoch) const;
  // What a checkpoint records as the batch size: 0 for sweeps (train/checkpoint.h counts them).
  int64_t checkpoint_batch() const { return task_.sweeps() ? 0 : config_.batch_size; }
  void load_checkpoint();

  Task& task_;
  TrainerConfig config_;
  TrainerHooks hooks_;
  std::unique_ptr<nn::Optimizer> optimizer_;
  std::unique_ptr<Updater> updater_;
  std::unique_ptr<data::BatchSampler> sampler_;
  TrainResult result_;
  double first_batch_loss_ = -1;  // the divergence guard's yardstick (read once, in the first step)
  std::vector<Tensor> best_;      // device copies of the best epoch's parameters
  double best_value_ = 0;
  int epochs_since_best_ = 0;
};

}  // namespace curec::train
