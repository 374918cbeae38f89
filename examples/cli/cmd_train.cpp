#include <cstdio>
#include <memory>

#include "examples/cli/commands.h"
#include "examples/cli/common.h"

namespace curec::cli {

void add_train(CLI::App& app) {
  auto* cmd = app.add_subcommand("train", "Train a model with the book's settings (flags override them)");
  auto flags = std::make_shared<TrainFlags>();
  auto model = std::make_shared<std::string>();
  std::string names;
  for (const auto& e : train::experiments()) names += (names.empty() ? "" : ", ") + e.name;
  cmd->add_option("model", *model, "Model: " + names)->required()->check([](const std::string& m) {
    for (const auto& e : train::experiments())
      if (e.name == m) return std::string();
    return "unknown model '" + m + "'";
  });
  add_train_flags(cmd, *flags);
  cmd->callback([flags, model] {
    const train::Experiment& e = train::find_experiment(*model);
    train::RunOptions o = to_run_options(*flags);
    o.verbose = true;
    train::RunResult r = e.run_checked(o);
    std::printf("%s: %s %.4f, %.0f examples/sec, %.2f s training\n", r.model.c_str(), e.metric.c_str(),
                r.metrics.at(e.metric), r.examples_per_sec, r.train_seconds);
    if (flags->json) print_json_line(result_json(r, o));
  });
}

}  // namespace curec::cli
