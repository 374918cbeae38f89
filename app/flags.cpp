#include "app/flags.h"

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
  return remember(command_->add_option(name, field, help)->check(CLI::NonNegativeNumber)->capture_default_str());
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

void Flags::trainer(train::TrainerConfig& c) {
  positive("--epochs", c.epochs, "Epochs");
  positive("--batch-size", c.batch_size, "Examples per step (the global batch)");
  positive("--lr", nn::learning_rate(c.optimizer), "Learning rate of " + nn::optimizer_name(c.optimizer));
  non_negative("--wd", nn::weight_decay(c.optimizer), "Weight decay (L2, added to the gradient)");
  count("--eval-every", c.eval_every, "Test metrics after every N-th epoch and the last; 0: the last only");
  checkpoints(c.checkpoint, c.resume, "epoch");
}

void Flags::checkpoints(std::string& checkpoint, std::string& resume, const std::string& unit) {
  text("--checkpoint", checkpoint, "Write a checkpoint to FILE after every " + unit + " (atomically)");
  text("--resume", resume, "Continue from a checkpoint FILE (same model, settings and seed)")->check(CLI::ExistingFile);
}

void Flags::split(std::string& field) {
  remember(command_->add_option("--split", field,
                                "Train/test split: random (the book's 90/10), random:R, seq, loo, u1..u5, ua, ub "
                                "(ML-100K files) or test:FILE (FILE's ratings are the test set)")
               ->check([](const std::string& s) { return split_spec_error(s); }));
}

}  // namespace curec::app
