#pragma once
// The part of training that belongs to a model: how a batch of training examples becomes a
// loss on the device, and how the model is scored. Everything else (device placement, the
// optimizer, batches, the epoch loop, loss sums, the divergence guard, early stopping,
// checkpoints, progress) is the Trainer's (train/trainer.h), once for every model.
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "nn/module.h"

namespace curec::train {

// Metrics by name ("test_rmse", "hit_at_50", "auc", ...).
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
// computes its gradients itself (a fused kernel) installs them and sets backward = false.
struct BatchLoss {
  Tensor loss;
  bool backward = true;
};

enum class EvalPart { validation, test };

// An evaluation that the ranks of a data-parallel run share. It is cut into `units` that are
// scored independently (test pairs, users, rows): rank r computes part(first, count) for its
// contiguous share (the trainer takes shard_of(units, ...)), a list of numbers; finish() gets
// every rank's list concatenated in rank order and gives the metrics. part() may return a value
// per unit (then N ranks give one rank's metrics bit for bit) or sums over its units (then up to
// the order of the sums). run() is one rank's evaluation.
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
  // Moves the task's data (and nothing else) to `device`; called once, after the model moved.
  virtual void to(Device device) = 0;
  virtual int64_t num_examples() const = 0;  // training examples the batches are drawn from
  // indices: i64 [n] positions among the training examples, on the training device.
  virtual BatchLoss loss(const Tensor& indices, const StepContext& context) = 0;
  // The model's metrics on a part (called without gradients; the task picks eval mode).
  virtual Metrics evaluate(EvalPart part) = 0;
  // The same evaluation cut into units (above), so that data-parallel ranks share it; a task
  // without one is evaluated whole on every rank (the same metrics, N times the work).
  virtual std::optional<EvalPlan> evaluation(EvalPart) { return std::nullopt; }
  virtual bool has(EvalPart part) const = 0;
  // Whether a larger value of `metric` is better (early stopping, reports).
  virtual bool higher_is_better(const std::string& metric) const = 0;
};

}  // namespace curec::train
