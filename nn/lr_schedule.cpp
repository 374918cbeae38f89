#include "nn/lr_schedule.h"

#include <cmath>
#include <numbers>

#include "core/error.h"

namespace curec::nn {

double lr_factor(const LrSchedule& s, int64_t position) {
  if (position < s.warmup) return static_cast<double>(position + 1) / static_cast<double>(s.warmup);
  const int64_t t = position - s.warmup;
  switch (s.shape) {
    case LrShape::constant: return 1.0;
    case LrShape::step: return std::pow(static_cast<double>(s.gamma), static_cast<double>(t / s.decay_steps));
    case LrShape::cosine:
    case LrShape::linear: {
      const double floor = s.min_factor;
      if (s.decay_steps <= 0 || t >= s.decay_steps) return floor;
      const double done = static_cast<double>(t) / static_cast<double>(s.decay_steps);
      const double left = s.shape == LrShape::cosine ? 0.5 * (1.0 + std::cos(std::numbers::pi * done)) : 1.0 - done;
      return floor + (1.0 - floor) * left;
    }
  }
  return 1.0;
}

void check_schedule(const LrSchedule& s) {
  CUREC_CHECK(s.warmup >= 0, "learning-rate schedule: warmup must be >= 0, got ", s.warmup);
  CUREC_CHECK(s.decay_steps >= 0, "learning-rate schedule: decay_steps must be >= 0, got ", s.decay_steps);
  if (s.shape == LrShape::step) {
    CUREC_CHECK(s.decay_steps > 0, "learning-rate schedule: step decay needs decay_steps > 0 (decay every N ",
                s.per_epoch ? "epochs" : "steps", ")");
    CUREC_CHECK(s.gamma > 0.0f && s.gamma <= 1.0f, "learning-rate schedule: gamma must be in (0, 1], got ", s.gamma);
  }
  CUREC_CHECK(s.min_factor >= 0.0f && s.min_factor <= 1.0f,
              "learning-rate schedule: the floor (min_factor) must be in [0, 1], got ", s.min_factor);
}

std::string lr_shape_name(LrShape shape) {
  switch (shape) {
    case LrShape::constant: return "constant";
    case LrShape::step: return "step";
    case LrShape::cosine: return "cosine";
    case LrShape::linear: return "linear";
  }
  return "constant";
}

LrShape parse_lr_shape(const std::string& name) {
  for (LrShape s : {LrShape::constant, LrShape::step, LrShape::cosine, LrShape::linear})
    if (lr_shape_name(s) == name) return s;
  CUREC_FAIL("unknown learning-rate schedule '", name, "'; use constant, step, cosine or linear");
}

std::string describe(const LrSchedule& s) {
  char buf[96];
  std::snprintf(buf, sizeof buf, " gamma=%a min=%a", static_cast<double>(s.gamma), static_cast<double>(s.min_factor));
  return lr_shape_name(s.shape) + " warmup=" + std::to_string(s.warmup) + " decay=" + std::to_string(s.decay_steps) +
         buf + (s.per_epoch ? " per-epoch" : " per-step");
}

}  // namespace curec::nn
