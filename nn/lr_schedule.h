#pragma once
// Learning-rate schedules as a factor of each parameter group's base learning rate (PyTorch's
// LambdaLR shape): a linear warm-up, then constant, step decay, or cosine or linear decay to a
// floor. A schedule is a pure function of its position (the number of updates, or of epochs,
// done before the current one), so a run resumed at a position continues bitwise.
#include <cstdint>
#include <string>

namespace curec::nn {

enum class LrShape { constant, step, cosine, linear };

struct LrSchedule {
  LrShape shape = LrShape::constant;
  // Warm-up: the first `warmup` positions ramp the factor linearly, (p + 1) / warmup, so the
  // first update already moves and the last warm-up update takes the full rate. The shape
  // below counts its positions from the end of warm-up.
  int64_t warmup = 0;
  // step: multiply by gamma every decay_steps positions. cosine, linear: reach min_factor after
  // decay_steps positions and stay there; 0 asks the trainer to fill in the rest of the run.
  int64_t decay_steps = 0;
  float gamma = 0.1f;       // step
  float min_factor = 0.0f;  // cosine, linear: the floor, as a fraction of the base rate
  // Positions count epochs instead of updates: the rate changes at each epoch's start.
  bool per_epoch = false;

  bool operator==(const LrSchedule&) const = default;
};

// The factor for position p (0-based: the update, or epoch, about to run).
double lr_factor(const LrSchedule& s, int64_t position);

// A schedule that does not change the rate: constant and no warm-up.
inline bool is_constant(const LrSchedule& s) { return s.shape == LrShape::constant && s.warmup == 0; }

// Errors naming the field and what to do for a schedule that cannot run (negative lengths, a
// step schedule without decay_steps, gamma outside (0, 1], a floor outside [0, 1]).
void check_schedule(const LrSchedule& s);

// "constant" | "step" | "cosine" | "linear", and back (an unknown name is an error listing them).
std::string lr_shape_name(LrShape shape);
LrShape parse_lr_shape(const std::string& name);

// One line that says the whole schedule, for checkpoints and logs ("cosine warmup=100 ...").
std::string describe(const LrSchedule& s);

}  // namespace curec::nn
