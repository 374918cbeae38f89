#include <cstdio>
#include <memory>

#include "app/commands.h"
#include "app/run_flags.h"
#include "app/run_report.h"

namespace curec::app {

std::vector<std::string> add_train(CLI::App& app, const std::string& model) {
  auto* cmd = app.add_subcommand("train", "Train a model with the book's settings (flags override them)");
  std::string names;
  for (const auto& e : experiments()) names += (names.empty() ? "" : ", ") + e.name;
  auto chosen = std::make_shared<std::string>();
  cmd->add_option("model", *chosen, "Model: " + names)->required()->check([](const std::string& m) {
    for (const auto& e : experiments())
      if (e.name == m) return std::string();
    return "unknown model '" + m + "'";
  });
  const Experiment* experiment = nullptr;
  for (const auto& e : experiments())
    if (e.name == model) experiment = &e;
  if (!experiment) {  // `curec train --help`, or an unknown model the positional's check reports
    cmd->callback([chosen] {});
    return {};
  }

  // The recipe's own fields, with the book's values, are what the flags bind onto.
  std::shared_ptr<Recipe> recipe = experiment->recipe();
  auto run = std::make_shared<RunFlags>();
  Flags flags(cmd);
  bind_run_flags(flags, *run, recipe->runs_on_cuda());
  recipe->bind(flags);
  cmd->callback([experiment, recipe, run, cmd, chosen] {
    const CLI::Option* resume = cmd->get_option_no_throw("--resume");
    run->append_log = resume && resume->count() > 0;
    RunReport report(*run, experiment->name, experiment->metric);
    RunResult r = recipe->run(run->settings);
    report.finish();
    std::printf("%s: %s %.4f, %.0f examples/sec, %.2f s training\n", r.model.c_str(), experiment->metric.c_str(),
                r.metrics.at(experiment->metric), r.examples_per_sec, r.train_seconds);
    if (run->json) print_json_line(result_json(r, run->settings));
  });
  return flags.names();
}

}  // namespace curec::app
