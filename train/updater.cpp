#include "train/updater.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "nn/clip_grad.h"

namespace curec::train {

void check_update_rule(const UpdateRule& rule) {
  nn::check_schedule(rule.lr_schedule);
  CUREC_CHECK(std::isfinite(rule.clip_grad_norm) && rule.clip_grad_norm >= 0.0f,
              "clip_grad_norm must be a number >= 0 (0: no clipping), got ", rule.clip_grad_norm);
}

std::string describe(const UpdateRule& rule) {
  char clip[48];
  std::snprintf(clip, sizeof clip, " clip=%a", static_cast<double>(rule.clip_grad_norm));
  return nn::describe(rule.lr_schedule) + clip;
}

int64_t run_updates(int64_t n, int64_t batch_size, data::LastBatch last, int epochs) {
  switch (last) {
    case data::LastBatch::drop: return epochs * (n / batch_size);
    case data::LastBatch::keep: return epochs * ((n + batch_size - 1) / batch_size);
    case data::LastBatch::rollover: return epochs * n / batch_size;  // what is carried fills later batches
  }
  return 0;
}

Updater::Updater(nn::Optimizer& optimizer, UpdateRule rule, int64_t run_updates, int epochs)
    : optimizer_(optimizer), rule_(rule), schedule_(rule.lr_schedule) {
  check_update_rule(rule_);
  const bool spans_run = schedule_.shape == nn::LrShape::cosine || schedule_.shape == nn::LrShape::linear;
  if (spans_run && schedule_.decay_steps == 0)
    schedule_.decay_steps = std::max<int64_t>((schedule_.per_epoch ? epochs : run_updates) - schedule_.warmup, 1);
  for (size_t g = 0; g < optimizer_.num_groups(); ++g) base_lr_.push_back(optimizer_.lr(g));
}

void Updater::step(int epoch) {
  // A constant rate is left alone, so a caller's own set_lr holds.
  if (!nn::is_constant(schedule_)) {
    const double f = nn::lr_factor(schedule_, schedule_.per_epoch ? epoch - 1 : updates_);
    for (size_t g = 0; g < base_lr_.size(); ++g) optimizer_.set_lr(g, static_cast<float>(base_lr_[g] * f));
  }
  if (rule_.clip_grad_norm > 0) nn::clip_grad_norm(optimizer_, rule_.clip_grad_norm);
  optimizer_.step();
  ++updates_;
}

}  // namespace curec::train
