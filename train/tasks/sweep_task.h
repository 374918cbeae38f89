#pragma once
// A model fitted by sweeps (models::SweepModel: ALS, BPMF) as a Task: an epoch is one sweep,
// a step with no backward and no optimizer; the sweep's stand-in for a loss is the epoch's
// loss, its test metrics the epoch's. Every rank runs the whole sweep (the model exchanges what
// its ranks solved itself), so the run's numbers do not depend on the ranks.
#include "models/sweep_model.h"
#include "train/task.h"

namespace curec::train {

class SweepTask : public Task {
 public:
  explicit SweepTask(models::SweepModel& model) : model_(model) {}
  std::string name() const override { return model_.name(); }
  nn::Module& module() override { return none_; }  // no parameters: the state is the model's own
  int64_t num_examples() const override { return 1; }
  bool sweeps() const override { return true; }
  void to(Device device) override { model_.to(device); }
  BatchLoss loss(const Tensor& indices, const StepContext& context) override;
  std::optional<EvalPlan> evaluation(EvalPart part) override;
  nn::StateDict state_dict() override { return model_.state_dict(); }
  void load_state_dict(const nn::StateDict& state) override { model_.load_state_dict(state); }

 private:
  models::SweepModel& model_;
  nn::Module none_;
};

}  // namespace curec::train
