#pragma once
// The optimizer's step as the trainer runs it: the learning-rate schedule's rate for this update
// (each group's base rate times the schedule's factor), clipping by global norm on the device,
// then the update. Its position (updates done) goes into checkpoints, so a resumed run takes
// the rates the uninterrupted run took.
#include <cstdint>
#include <string>
#include <vector>

#include "data/batch_sampler.h"
#include "nn/lr_schedule.h"
#include "nn/optimizer.h"

namespace curec::train {

struct UpdateRule {
  nn::LrSchedule lr_schedule;
  float clip_grad_norm = 0;  // > 0: clip the gradients' global norm to this; 0: no clipping
};

// Errors naming the field for a rule that cannot run.
void check_update_rule(const UpdateRule& rule);
// One line with every value of the rule, bit for bit (a checkpoint's record of it).
std::string describe(const UpdateRule& rule);

// The updates a run of `epochs` epochs makes: n examples in batches of batch_size, the last
// partial batch handled by `last` (data/batch_sampler.h).
int64_t run_updates(int64_t n, int64_t batch_size, data::LastBatch last, int epochs);

class Updater {
 public:
  // The groups' current rates are the base rates. run_updates/epochs: the run's length, which
  // a cosine or linear decay without decay_steps spans (after its warm-up).
  Updater(nn::Optimizer& optimizer, UpdateRule rule, int64_t run_updates, int epochs);

  // One update, in epoch (1-based): rate, clip, step.
  void step(int epoch);
  // Updates done; a checkpoint's, restored on resume.
  int64_t updates() const { return updates_; }
  void set_updates(int64_t n) { updates_ = n; }
  const nn::LrSchedule& schedule() const { return schedule_; }  // with decay_steps filled in

 private:
  nn::Optimizer& optimizer_;
  UpdateRule rule_;
  nn::LrSchedule schedule_;
  std::vector<float> base_lr_;
  int64_t updates_ = 0;
};

}  // namespace curec::train
