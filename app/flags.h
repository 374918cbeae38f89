#pragma once
// Binds command-line flags onto a recipe's own fields. Each binder registers the flag on the
// CLI11 command and remembers its name, so a usage error can list what a model takes.
#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "nn/optimizer_config.h"
#include "train/trainer.h"

namespace curec::app {

class Flags {
 public:
  explicit Flags(CLI::App* command) : command_(command) {}

  CLI::Option* positive(const std::string& name, int& field, const std::string& help);
  CLI::Option* positive(const std::string& name, int64_t& field, const std::string& help);
  CLI::Option* positive(const std::string& name, float& field, const std::string& help);
  CLI::Option* non_negative(const std::string& name, float& field, const std::string& help);
  CLI::Option* count(const std::string& name, int& field, const std::string& help);  // an integer >= 0
  CLI::Option* count(const std::string& name, int64_t& field, const std::string& help);
  CLI::Option* text(const std::string& name, std::string& field, const std::string& help);
  CLI::Option* flag(const std::string& name, bool& field, const std::string& help);
  CLI::Option* device(Device& field);

  // The trainer's flags: --epochs, --batch-size, --lr, --wd, --eval-every, --checkpoint, --resume,
  // and the training tools (update_rule). `batch_help` replaces --batch-size's help where a
  // recipe counts its batch in other units or has a rule for it.
  void trainer(train::TrainerConfig& config, const std::string& batch_help = "");
  // --lr-schedule, --warmup, --lr-decay-steps, --lr-gamma, --lr-min, --lr-per-epoch,
  // --clip-grad-norm, --param-groups. A flag the chosen schedule would not use is a usage error.
  void update_rule(train::TrainerConfig& config);
  // --checkpoint and --resume (the trainer's, and the sweep models' own).
  void checkpoints(std::string& checkpoint, std::string& resume, const std::string& unit);
  // --split for rating models (app/split_spec.h's grammar).
  void split(std::string& field);

  // Records a flag registered directly on the command.
  CLI::Option* remember(CLI::Option* option);
  const std::vector<std::string>& names() const { return names_; }
  CLI::App* command() const { return command_; }

 private:
  CLI::App* command_;
  std::vector<std::string> names_;
};

}  // namespace curec::app
