#pragma once
// A model fitted by sweeps instead of gradients: ALS (every row solved exactly, then every
// column), BPMF (one Gibbs sample). The sweep task (train/tasks/sweep_task.h) runs it through
// the one Trainer, an epoch a sweep, so that checkpoints, resume, interruption, logs and curves
// are the engine's; the model holds its data and does the sweep.
#include <map>
#include <string>

#include "core/device.h"
#include "nn/state_dict.h"

namespace curec::models {

class SweepModel {
 public:
  virtual ~SweepModel() = default;
  virtual std::string name() const = 0;
  // Puts the model and its data on `device`; called once, before the first sweep or a restore.
  virtual void to(Device device) = 0;
  // Sweep number `sweep` (1-based, following the sweeps done). Returns what the run reports in
  // place of a loss (ALS: the training RMSE; BPMF: the sample's test RMSE).
  virtual double sweep(int sweep) = 0;
  // The test metrics after the sweeps so far (empty without a test set).
  virtual std::map<std::string, double> test_metrics() = 0;
  // Everything the next sweep depends on, and the sweeps done.
  virtual nn::StateDict state_dict() const = 0;
  virtual void load_state_dict(const nn::StateDict& state) = 0;
};

}  // namespace curec::models
