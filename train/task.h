#pragma once
// The part of training that belongs to a model: how a batch of training examples becomes a
// loss on the device, and how the model is scored. Everything else (device placement, the
// optimizer, batches, the epoch loop, loss sums, the divergence guard, early stopping,
// checkpoints, progress) is the Trainer's (train/trainer.h), once for every model.
//
// A task of one's own overrides four functions (name, module, num_examples, loss) and, to be
// scored, evaluation(); the ready ones live in train/tasks/.
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "nn/module.h"

namespace curec::train {

// Metrics by name ("test_rmse", "hit_at_50", "auc", ...). Whether a larger value is better
// follows from the name (train/metrics.h: lower_is_better).
using Metrics = std::map<std::string, double>;

// Where a batch sits, so a task can key its randomness (negative samples) by position rather
// than by the order of calls: the same example draws the same negative on any number of ranks
// and after a resume.
struct StepContext {
  int epoch = 0;          // 1-based
  int64_t step = 0;       // 0-based, within the epoch
  int64_t position = 0;   // index of the batch's first example among the epoch's examples
  int64_t global_batch = 0;  // examples in the whole batch (this rank's part may be smaller)
};

// A batch's loss: the MEAN over its examples, a one-element device tensor. A task whose step
// computes its gradients itself (a fused kernel), or needs none (a sweep of exact solves, a
// Gibbs sample), does its update and sets backward = false.
struct BatchLoss {
  Tensor loss;
  bool backward = true;
};

enum class EvalPart { validation, test };

// How a model is scored on a part, cut into `units` that are scored independently (test pairs,
// users, rows): part(first, count) gives a list of numbers for units [first, first + count),
// finish() gets the lists of all parts concatenated in order and gives the metrics. One rank
// runs the plan whole (run()); the ranks of a data-parallel run each take their contiguous
// share and concatenate in rank order. part() may return a value per unit (then N ranks give
// one rank's metrics bit for bit) or sums over its units (then up to the order of the sums).
struct EvalPlan {
  int64_t units = 0;
  std::function<std::vector<double>(int64_t first, int64_t count)> part;
  std::function<Metrics(const std::vector<double>& parts)> finish;
  Metrics run() const { return finish(part(0, units)); }
};

class Task {
 public:
  virtual ~Task() = default;
  virtual std::string name() const = 0;  // the model's name, checked when a checkpoint resumes
  virtual nn::Module& module() = 0;
  virtual int64_t num_examples() const = 0;  // training examples the batches are drawn from
  // indices: i64 [n] positions among the training examples, on the training device.
  virtual BatchLoss loss(const Tensor& indices, const StepContext& context) = 0;
  // How the model is scored on `part` (run without gradients); none when the task has no such part.
  virtual std::optional<EvalPlan> evaluation(EvalPart) { return std::nullopt; }
  // Moves the task's data (and nothing else) to `device`; called once, after the model moved.
  virtual void to(Device) {}
  // Whether an epoch is one sweep of a model fitted without gradients (train/tasks/sweep_task.h):
  // then every rank runs the whole step, with no gradient exchange, and the trainer counts sweeps.
  virtual bool sweeps() const { return false; }
  // What a checkpoint keeps of the model and how it comes back: the module's state, unless the
  // model keeps more than its parameters (a sampler's kept draws).
  virtual nn::StateDict state_dict() { return module().state_dict(); }
  virtual void load_state_dict(const nn::StateDict& state) { module().load_state_dict(state); }
};

}  // namespace curec::train
