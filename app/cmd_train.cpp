#include <cstdio>
#include <memory>

#include "app/commands.h"
#include "app/data_parallel.h"
#include "app/output_paths.h"
#include "app/run_flags.h"
#include "app/run_report.h"

namespace curec::app {

namespace {
// The value of a flag the recipe may take, "" when it does not or it was not given.
std::string flag_value(const CLI::App& cmd, const std::string& name) {
  const CLI::Option* o = cmd.get_option_no_throw(name);
  return o && o->count() > 0 ? o->as<std::string>() : "";
}

// What a training run writes, and what it reads (which none of the former may be).
std::vector<NamedPath> run_outputs(const CLI::App& cmd, const RunFlags& run) {
  return {{"--save", run.settings.save},
          {"--checkpoint", flag_value(cmd, "--checkpoint"), "--resume"},
          {"--curves", run.curves},
          {"--log", run.log}};
}

std::vector<NamedPath> run_inputs(const CLI::App& cmd, const RunSettings& s) {
  std::vector<NamedPath> in = data_inputs("--data", s.data);
  for (NamedPath& p : data_inputs("--data", s.data_spec())) in.push_back(std::move(p));
  for (NamedPath& p : split_inputs(flag_value(cmd, "--split"))) in.push_back(std::move(p));
  in.push_back({"--resume", flag_value(cmd, "--resume")});
  return in;
}
}  // namespace

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
  auto world_size = std::make_shared<int>(1);
  auto exchange_alone = std::make_shared<bool>(false);
  if (recipe->data_parallel())
    flags.remember(cmd->add_option("--world-size", *world_size,
                                   "Data-parallel ranks in this process: threads on the CPU, GPUs 0..N-1 with "
                                   "--device cuda (under mpirun or torchrun: one rank per process, leave it out)"));
  if (recipe->data_parallel())
    flags.remember(cmd->add_flag("--log-ranks", run->settings.log_all_ranks,
                                 "Data parallel: every rank prints its epoch lines, marked [rank r] (default: rank 0's)"));
  if (recipe->data_parallel())
    flags.remember(cmd->add_flag("--exchange-alone", *exchange_alone,
                                 "One rank through the data-parallel path: gradients bucketed and exchanged as with "
                                 "several ranks (NCCL on the one GPU with --device cuda), to check it on one device"));
  cmd->callback([experiment, recipe, run, cmd, chosen, world_size, exchange_alone] {
    const CLI::Option* resume = cmd->get_option_no_throw("--resume");
    run->append_log = resume && resume->count() > 0;
    const CLI::Option* ws = cmd->get_option_no_throw("--world-size");
    const ParallelPlan plan = plan_parallel(*world_size, ws && ws->count() > 0, *exchange_alone);
    if (run->settings.log_all_ranks && plan.world_size == 1)  // one rank prints its lines anyway
      throw CLI::ValidationError("--log-ranks needs several ranks (--world-size N, or a launch with N processes)");
    if (!recipe->data_parallel() && plan.world_size > 1)  // BPMF's one Gibbs chain, started N times
      throw CLI::ValidationError(*chosen + " runs on one rank, but " + dist::launcher_name(plan.launch.how) +
                                 " started " + std::to_string(plan.world_size) + " processes; run it as one process");
    check_outputs(run_outputs(*cmd, *run), run_inputs(*cmd, run->settings));
    const bool lead = plan.rank == 0;  // only rank 0 reports
    if (!lead) run->settings.verbose = false;
    std::unique_ptr<RunReport> report;
    if (lead) report = std::make_unique<RunReport>(*run, experiment->name, experiment->metric);
    // Every rank polls its own Ctrl-C/SIGTERM (a signal that reaches one process of a launch,
    // not rank 0, must stop the run too): the ranks agree on it (train/data_parallel.h).
    else run->settings.hooks.should_stop = [] { return interrupted(); };
    RunResult r = run_parallel(*recipe, run->settings, plan);
    if (!lead) return;
    report->finish();
    std::printf("%s: %s %.4f, %.0f examples/sec, %.2f s training%s\n", r.model.c_str(), experiment->metric.c_str(),
                r.metrics.at(experiment->metric), r.examples_per_sec, r.train_seconds,
                plan.world_size > 1  ? (" on " + std::to_string(plan.world_size) + " ranks").c_str()
                : plan.exchange_alone ? " on 1 rank, exchanging alone"
                                      : "");
    nlohmann::json j = result_json(r, run->settings);
    j["world_size"] = plan.world_size;
    j["exchange_alone"] = plan.exchange_alone;
    if (run->json) print_json_line(j);
  });
  return flags.names();
}

}  // namespace curec::app
