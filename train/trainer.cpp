#include "train/trainer.h"

#include <chrono>
#include <cmath>
#include <limits>

#include "core/autograd.h"
#include "ops/dropout.h"
#include "ops/elementwise.h"
#include "train/checkpoint.h"
#include "train/metrics.h"

namespace curec::train {

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Device copies of the parameters: keeping the best epoch costs no host round trip.
void snapshot(const std::vector<Tensor>& params, std::vector<Tensor>& into) {
  NoGradGuard ng;
  if (into.empty())
    for (const Tensor& p : params) into.push_back(p.detach().clone());
  else
    for (size_t i = 0; i < params.size(); ++i) into[i].copy_from(params[i]);
}

void restore(const std::vector<Tensor>& params, const std::vector<Tensor>& from) {
  NoGradGuard ng;
  for (size_t i = 0; i < params.size(); ++i) {
    Tensor p = params[i];
    p.copy_from(from[i]);
  }
}

std::string join_metrics(const Metrics& m) {
  std::string s;
  for (const auto& [k, v] : m) s += (s.empty() ? "" : ", ") + k;
  return s.empty() ? "none" : s;
}
}  // namespace

const Metrics& TrainResult::best_validation() const {
  static const Metrics none;
  for (const EpochRecord& r : history)
    if (r.epoch == best_epoch) return r.validation;
  return none;
}

Shard shard_of(int64_t n, const Sharding& s) {
  // The first n % world ranks take one example more: shards differ by at most one.
  const int64_t w = s.world_size, base = n / w, extra = n % w;
  const int64_t r = s.rank;
  return Shard{r * base + std::min<int64_t>(r, extra), base + (r < extra ? 1 : 0)};
}

Trainer::Trainer(Task& task, TrainerConfig config, TrainerHooks hooks)
    : task_(task), config_(std::move(config)), hooks_(std::move(hooks)) {
  const TrainerConfig& c = config_;
  CUREC_CHECK(c.epochs > 0, task_.name(), ": the number of epochs must be positive, got ", c.epochs);
  CUREC_CHECK(c.batch_size > 0, task_.name(), ": the batch size must be positive, got ", c.batch_size);
  CUREC_CHECK(c.eval_every >= 0, task_.name(), ": eval_every must be >= 0, got ", c.eval_every);
  CUREC_CHECK(c.sharding.world_size >= 1 && c.sharding.rank >= 0 && c.sharding.rank < c.sharding.world_size,
              task_.name(), ": rank ", c.sharding.rank, " does not fit a world of size ", c.sharding.world_size);
  CUREC_CHECK(task_.sweeps() || c.batch_size >= c.sharding.world_size, task_.name(), ": the batch size ", c.batch_size,
              " is smaller than the ", c.sharding.world_size, " ranks; every rank needs at least one example");
  CUREC_CHECK(task_.num_examples() > 0, task_.name(), ": there are no training examples");
  if (c.early_stop) {
    CUREC_CHECK(has(EvalPart::validation), task_.name(),
                ": early stopping needs a validation set, and this task has none");
    CUREC_CHECK(c.early_stop->every >= 1, task_.name(), ": early stopping validates every N >= 1 epochs, got N = ",
                c.early_stop->every);
  }
  CUREC_CHECK(c.divergence_factor > 1, task_.name(), ": divergence_factor must exceed 1, got ", c.divergence_factor);
  check_update_rule(c.update);
}

void Trainer::prepare() {
  if (optimizer_) return;
  const TrainerConfig& c = config_;
  nn::Module& model = task_.module();
  model.to(c.device);
  task_.to(c.device);
  optimizer_ = nn::make_optimizer(nn::param_groups(model.named_parameters(), c.param_groups), c.optimizer);
  sampler_ = std::make_unique<data::BatchSampler>(task_.num_examples(), c.batch_size, /*shuffle=*/true, c.last_batch,
                                                  c.seed, c.device);
  updater_ = std::make_unique<Updater>(
      *optimizer_, c.update, run_updates(task_.num_examples(), c.batch_size, c.last_batch, c.epochs), c.epochs);
}

nn::Optimizer& Trainer::optimizer() {
  prepare();
  return *optimizer_;
}

Tensor Trainer::run_step(const Tensor& idx, const StepContext& ctx, const Shard& shard) {
  const int64_t n = ctx.global_batch;
  // Dropout masks keyed by each example's row in the global batch: any number of ranks
  // draws what one rank draws.
  DropoutRows rows(shard.first, n);
  optimizer_->zero_grad();
  BatchLoss bl = task_.loss(idx, ctx);
  const double share = static_cast<double>(shard.count) / static_cast<double>(n);
  const bool exchange = !task_.sweeps();  // a sweep has no gradients to exchange or apply
  const BackwardObserver observer =
      exchange && hooks_.before_backward ? hooks_.before_backward(ctx, share) : BackwardObserver{};
  if (bl.backward) bl.loss.backward(Tensor(), observer);
  if (exchange && hooks_.after_backward) hooks_.after_backward(ctx, share);
  if (exchange) updater_->step(ctx.epoch);  // after the exchange: clipping sees the averaged gradients
  return bl.loss.detach();
}

Tensor Trainer::step(const Tensor& indices, const StepContext& context) {
  prepare();
  task_.module().train();
  StepContext ctx = context;
  ctx.global_batch = indices.numel();
  return run_step(indices, ctx, Shard{0, indices.numel()});
}

void Trainer::run_epoch(int epoch, EpochRecord& record, int64_t& examples) {
  nn::Module& model = task_.module();
  model.train();
  auto t0 = std::chrono::steady_clock::now();
  DeviceMean loss_mean;
  std::vector<Tensor> batches = sampler_->next_epoch();
  const auto steps = static_cast<int64_t>(batches.size());
  // Every step's loss, kept on the device: read only when the guard trips, to name the step.
  Tensor step_losses = Tensor::empty({steps}, DType::f32, config_.device);
  int64_t position = 0;
  for (int64_t s = 0; s < steps; ++s) {
    const Tensor& global = batches[static_cast<size_t>(s)];
    const int64_t n = global.numel();
    // A sweep is every rank's whole step.
    const bool whole = config_.sharding.world_size == 1 || task_.sweeps();
    const Shard shard = whole ? Shard{0, n} : shard_of(n, config_.sharding);
    StepContext ctx{epoch, s, position + shard.first, n};
    Tensor idx = whole ? global : global.rows(shard.first, shard.count);
    Tensor loss = run_step(idx, ctx, shard);
    {
      NoGradGuard ng;
      loss_mean.add(loss * static_cast<float>(shard.count), shard.count);
      step_losses.rows(s, 1).copy_from(loss.view({1}));
    }
    // The one read outside an epoch's end: the guard's yardstick, at the very first step.
    if (first_batch_loss_ < 0) {
      first_batch_loss_ = static_cast<double>(loss.item());
      if (hooks_.combine_loss) first_batch_loss_ = hooks_.combine_loss(first_batch_loss_, shard.count);
      first_batch_loss_ = std::fabs(first_batch_loss_);
    }
    position += n;
    examples += shard.count;
    result_.examples += n;
    if (hooks_.on_step) hooks_.on_step(epoch, s + 1, steps, examples);
    if (hooks_.should_stop && hooks_.should_stop())
      throw Interrupted(task_.sweeps() ? task_.name() + ": interrupted after sweep " + std::to_string(epoch)
                                       : task_.name() + ": interrupted in epoch " + std::to_string(epoch) +
                                             " at step " + std::to_string(s + 1) + " of " + std::to_string(steps),
                        __FILE__, __LINE__);
  }
  record.epoch = epoch;
  record.train_loss = loss_mean.count() ? loss_mean.value() : kNaN;  // the epoch's host sync
  if (hooks_.combine_loss) record.train_loss = hooks_.combine_loss(record.train_loss, loss_mean.count());
  record.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double limit = config_.divergence_factor * std::max(first_batch_loss_, 1e-3);
  if (!std::isfinite(record.train_loss) || record.train_loss > limit) diverged(epoch, step_losses, limit);
}

void Trainer::diverged(int epoch, const Tensor& step_losses, double limit) const {
  std::vector<float> losses = step_losses.to_vector<float>();
  size_t bad = 0;
  while (bad + 1 < losses.size() && std::isfinite(losses[bad]) && losses[bad] <= limit) ++bad;
  CUREC_FAIL(task_.name(), " training diverged: epoch ", epoch, ", step ", bad + 1, " of ", losses.size(),
             " has loss ", losses[bad], " (the first batch had ", first_batch_loss_, "; the guard stops at ",
             config_.divergence_factor, " times that or a non-finite loss); lower the learning rate (now ",
             nn::learning_rate(config_.optimizer), ")");
}

Metrics Trainer::evaluate(EvalPart part) {
  prepare();
  std::optional<EvalPlan> plan = task_.evaluation(part);
  CUREC_CHECK(plan, task_.name(), " has no ", part == EvalPart::test ? "test" : "validation",
              " part to evaluate; give the task that data");
  NoGradGuard ng;
  nn::Module& model = task_.module();
  const bool was_training = model.is_training();
  model.eval();
  Metrics m;
  if (config_.sharding.world_size > 1 && hooks_.gather) {
    const Shard mine = shard_of(plan->units, config_.sharding);
    m = plan->finish(hooks_.gather(plan->part(mine.first, mine.count)));
  } else {
    m = plan->run();
  }
  model.train(was_training);
  return m;
}

void Trainer::evaluate_epoch(EpochRecord& r, bool last_epoch) {
  const int every = config_.eval_every;
  r.evaluated = has(EvalPart::test) && (last_epoch || (every > 0 && r.epoch % every == 0));
  if (r.evaluated) r.test = evaluate(EvalPart::test);
  if (!config_.early_stop) return;
  const EarlyStopping& es = *config_.early_stop;
  if (!last_epoch && r.epoch % es.every != 0) return;
  r.validation = evaluate(EvalPart::validation);
  auto it = r.validation.find(es.metric);
  CUREC_CHECK(it != r.validation.end(), task_.name(), ": early stopping on '", es.metric,
              "', but the validation metrics are ", join_metrics(r.validation));
  const double v = it->second;
  const bool higher = !lower_is_better(es.metric);
  // The first epoch always counts, so a validation set of one class still restores something.
  if (result_.best_epoch == 0 || (higher ? v > best_value_ : v < best_value_)) {
    result_.best_epoch = r.epoch;
    best_value_ = v;
    epochs_since_best_ = 0;
    snapshot(task_.module().parameters(), best_);
  } else {
    ++epochs_since_best_;
  }
}

TrainResult Trainer::fit() {
  const TrainerConfig& c = config_;
  nn::Module& model = task_.module();
  prepare();
  result_ = TrainResult{};
  if (!c.resume.empty()) load_checkpoint();
  if (hooks_.on_start && !task_.sweeps()) hooks_.on_start(model);
  int64_t examples = 0;
  double seconds = 0;  // of this run's epochs, for its speed
  for (int epoch = result_.resumed_from + 1; epoch <= c.epochs; ++epoch) {
    EpochRecord r;
    run_epoch(epoch, r, examples);
    result_.train_seconds += r.seconds;
    seconds += r.seconds;
    evaluate_epoch(r, epoch == c.epochs);
    result_.history.push_back(r);
    const bool stop = c.early_stop && c.early_stop->patience > 0 && epochs_since_best_ >= c.early_stop->patience;
    if (!c.checkpoint.empty() && c.sharding.rank == 0) save_checkpoint(epoch);
    if (hooks_.on_epoch) hooks_.on_epoch(r);
    if (stop) {
      result_.stopped_early = true;
      break;
    }
  }
  if (c.early_stop) {
    restore(model.parameters(), best_);
    result_.final_test = has(EvalPart::test) ? evaluate(EvalPart::test) : Metrics{};
  } else {
    result_.best_epoch = result_.history.empty() ? 0 : result_.history.back().epoch;
    result_.final_test = result_.history.empty() || !result_.history.back().evaluated
                             ? (has(EvalPart::test) ? evaluate(EvalPart::test) : Metrics{})
                             : result_.history.back().test;
  }
  model.eval();
  result_.examples_per_sec = seconds > 0 ? static_cast<double>(result_.examples) / seconds : 0;
  return result_;
}

void Trainer::save_checkpoint(int epoch) const {
  Checkpoint k;
  k.task = task_.name();
  k.epoch = epoch;
  k.batch_size = checkpoint_batch();
  k.seed = config_.seed;
  k.model = task_.state_dict();
  k.optimizer = optimizer_->state_dict();
  k.updates = updater_->updates();
  k.update_rule = update_rule_of(config_);
  if (!best_.empty()) {
    auto named = task_.module().named_parameters();
    for (size_t i = 0; i < named.size(); ++i) k.best[named[i].first] = best_[i];
  }
  k.sampler = sampler_->state();
  for (const auto& [name, g] : task_.module().named_generators()) k.generators[name] = g->offset();
  k.history = result_.history;
  k.best_epoch = result_.best_epoch;
  k.best_value = best_value_;
  k.epochs_since_best = epochs_since_best_;
  k.first_batch_loss = first_batch_loss_;
  write_checkpoint(config_.checkpoint, k);
}

void Trainer::load_checkpoint() {
  const std::string& path = config_.resume;
  Checkpoint k = read_checkpoint(path);
  const std::string name = task_.name();
  check_resumable(k, path, name, checkpoint_batch(), config_.seed, config_.epochs);
  try {
    task_.load_state_dict(k.model);
  } catch (const Error& e) {
    CUREC_FAIL("checkpoint ", path, " does not fit this ", name, " model: ", e.message());
  }
  const std::string rule = update_rule_of(config_);
  CUREC_CHECK(k.update_rule == rule, "checkpoint ", path, " was written with the update rule '", k.update_rule,
              "', this run has '", rule, "'; resume with the schedule, clipping and groups that wrote it");
  optimizer_->load_state_dict(k.optimizer);
  updater_->set_updates(k.updates);
  sampler_->restore(k.sampler);
  for (const auto& [gname, g] : task_.module().named_generators()) {
    auto it = k.generators.find(gname);
    CUREC_CHECK(it != k.generators.end(), "checkpoint ", path, " has no position for the generator '", gname,
                "'; it was written by a model built differently");
    g->set_offset(it->second);
  }
  if (!k.best.empty()) {
    best_.clear();
    for (const auto& [pname, p] : task_.module().named_parameters()) {
      auto it = k.best.find(pname);
      CUREC_CHECK(it != k.best.end() && it->second.shape() == p.shape(), "checkpoint ", path,
                  ": the best-epoch copy of '", pname, "' is missing or has another shape");
      best_.push_back(it->second.to(config_.device));
    }
  }
  result_.history = k.history;
  result_.resumed_from = k.epoch;
  result_.best_epoch = k.best_epoch;
  best_value_ = k.best_value;
  epochs_since_best_ = k.epochs_since_best;
  first_batch_loss_ = k.first_batch_loss;
  for (const EpochRecord& r : k.history) result_.train_seconds += r.seconds;
}

}  // namespace curec::train
