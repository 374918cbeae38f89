#include "app/flags.h"

#include "app/output_paths.h"
#include "app/split_spec.h"

namespace curec::app {

namespace {
// Messages without CLI11's range of doubles.
CLI::Validator number_check(bool zero_ok) {
  return CLI::Validator(
      [zero_ok](const std::string& v) -> std::string {
        try {
          size_t used = 0;
          double x = std::stod(v, &used);
          if (used == v.size() && (x > 0 || (zero_ok && x == 0))) return {};
        } catch (const std::exception&) {
        }
        return std::string(zero_ok ? "must be a number >= 0" : "must be a positive number") + ", got '" + v + "'";
      },
      zero_ok ? "NON-NEGATIVE" : "POSITIVE");
}

// An integer >= 0, said in those words (CLI11's range would print the largest double).
CLI::Validator count_check() {
  return CLI::Validator(
      [](const std::string& v) -> std::string {
        try {
          size_t used = 0;
          long long x = std::stoll(v, &used);
          if (used == v.size() && x >= 0) return {};
        } catch (const std::exception&) {
        }
        return "must be an integer >= 0, got '" + v + "'";
      },
      "NON-NEGATIVE");
}
}  // namespace

CLI::Option* Flags::remember(CLI::Option* option) {
  names_.push_back(option->get_name());
  return option;
}

CLI::Option* Flags::positive(const std::string& name, int& field, const std::string& help) {
  return remember(command_->add_option(name, field, help)->check(number_check(false))->capture_default_str());
}
CLI::Option* Flags::positive(const std::string& name, int64_t& field, const std::string& help) {
  return remember(command_->add_option(name, field, help)->check(number_check(false))->capture_default_str());
}
CLI::Option* Flags::positive(const std::string& name, float& field, const std::string& help) {
  return remember(command_->add_option(name, field, help)->check(number_check(false))->capture_default_str());
}
CLI::Option* Flags::non_negative(const std::string& name, float& field, const std::string& help) {
  return remember(command_->add_option(name, field, help)->check(number_check(true))->capture_default_str());
}
CLI::Option* Flags::count(const std::string& name, int& field, const std::string& help) {
  return remember(command_->add_option(name, field, help)->check(count_check())->capture_default_str());
}
CLI::Option* Flags::count(const std::string& name, int64_t& field, const std::string& help) {
  return remember(command_->add_option(name, field, help)->check(count_check())->capture_default_str());
}
CLI::Option* Flags::text(const std::string& name, std::string& field, const std::string& help) {
  return remember(command_->add_option(name, field, help));
}
CLI::Option* Flags::flag(const std::string& name, bool& field, const std::string& help) {
  return remember(command_->add_flag(name, field, help));
}

CLI::Option* Flags::device(Device& field) {
  return remember(command_->add_option_function<std::string>(
                             "--device", [&field](const std::string& s) { field = Device::parse(s); },
                             "cpu, cuda or cuda:N (default cpu)")
                      ->check([](const std::string& s) {
                        try {
                          Device::parse(s);
                          return std::string();
                        } catch (const Error& e) {
                          return e.message();
                        }
                      }));
}

void Flags::trainer(train::TrainerConfig& c, const std::string& batch_help) {
  positive("--epochs", c.epochs, "Epochs");
  positive("--batch-size", c.batch_size, batch_help.empty() ? "Examples per step (the global batch)" : batch_help);
  positive("--lr", nn::learning_rate(c.optimizer), "Learning rate of " + nn::optimizer_name(c.optimizer));
  non_negative("--wd", nn::weight_decay(c.optimizer), "Weight decay (L2, added to the gradient)");
  count("--eval-every", c.eval_every, "Test metrics after every N-th epoch and the last; 0: the last only");
  checkpoints(c.checkpoint, c.resume, "epoch");
  update_rule(c);
}

void Flags::update_rule(train::TrainerConfig& c) {
  nn::LrSchedule& s = c.update.lr_schedule;
  remember(command_
               ->add_option_function<std::string>(
                   "--lr-schedule", [&s](const std::string& v) { s.shape = nn::parse_lr_shape(v); },
                   "Learning rate per step: constant, step (times --lr-gamma every --lr-decay-steps), cosine or "
                   "linear (down to --lr-min times --lr, over --lr-decay-steps or the rest of the run); after "
                   "--warmup (default constant)")
               ->check(CLI::IsMember({"constant", "step", "cosine", "linear"})));
  count("--warmup", s.warmup, "Steps of linear warm-up from --lr/N to --lr before the schedule (0: none)");
  count("--lr-decay-steps", s.decay_steps,
        "step: decay every N steps; cosine, linear: reach --lr-min after N steps (0: at the end of the run)");
  remember(command_->add_option("--lr-gamma", s.gamma, "step: the factor of each decay, in (0, 1]")
               ->check(number_check(false))
               ->check(CLI::Range(0.0f, 1.0f).description(""))
               ->capture_default_str());
  remember(command_->add_option("--lr-min", s.min_factor, "cosine, linear: the final rate as a fraction of --lr, in [0, 1]")
               ->check(CLI::Range(0.0f, 1.0f))
               ->capture_default_str());
  flag("--lr-per-epoch", s.per_epoch, "--warmup and --lr-decay-steps count epochs; the rate changes at each epoch's start");
  non_negative("--clip-grad-norm", c.update.clip_grad_norm,
               "Clip the gradients' global L2 norm to this before each step (0: no clipping)");
  remember(command_
               ->add_option_function<std::string>(
                   "--param-groups", [&c](const std::string& v) { c.param_groups = nn::parse_group_rule(v); },
                   "single (every parameter takes --wd) or no-decay (biases and 1-D weights, e.g. norms, take no "
                   "weight decay) (default single)")
               ->check(CLI::IsMember({"single", "no-decay"})));
  // After parsing: what the chosen schedule would not use is an error, not ignored.
  CLI::App* cmd = command_;
  command_->parse_complete_callback([cmd, &c] {
    const nn::LrSchedule& s = c.update.lr_schedule;
    auto given = [cmd](const char* name) { return cmd->get_option(name)->count() > 0; };
    auto refuse = [](const std::string& what) { throw CLI::ValidationError(what); };
    const bool decays = s.shape == nn::LrShape::cosine || s.shape == nn::LrShape::linear;
    if (given("--lr-gamma") && s.shape != nn::LrShape::step) refuse("--lr-gamma applies to --lr-schedule step only");
    if (given("--lr-min") && !decays) refuse("--lr-min applies to --lr-schedule cosine or linear only");
    if (given("--lr-decay-steps") && s.shape == nn::LrShape::constant)
      refuse("--lr-decay-steps needs --lr-schedule step, cosine or linear");
    if (s.shape == nn::LrShape::step && s.decay_steps == 0)
      refuse("--lr-schedule step needs --lr-decay-steps N (decay by --lr-gamma every N steps)");
    if (given("--lr-per-epoch") && nn::is_constant(s))
      refuse("--lr-per-epoch needs --warmup or a --lr-schedule other than constant");
  });
}

void Flags::checkpoints(std::string& checkpoint, std::string& resume, const std::string& unit) {
  text("--checkpoint", checkpoint, "Write a checkpoint to FILE after every " + unit + " (atomically)")
      ->check(non_empty_path());
  text("--resume", resume, "Continue from a checkpoint FILE (same model, settings and seed)")
      ->check(non_empty_path())
      ->check(CLI::ExistingFile);
}

void Flags::split(std::string& field) {
  remember(command_->add_option("--split", field,
                                "Train/test split: random (the book's 90/10), random:R, seq, loo, u1..u5, ua, ub "
                                "(ML-100K files) or test:FILE (FILE's ratings are the test set)")
               ->check([](const std::string& s) { return split_spec_error(s); }));
}

}  // namespace curec::app
