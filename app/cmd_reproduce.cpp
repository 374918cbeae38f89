#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <memory>

#include "app/commands.h"
#include "app/output_paths.h"
#include "app/run_flags.h"
#include "app/run_report.h"

namespace curec::app {

void add_reproduce(CLI::App& app) {
  auto* cmd = app.add_subcommand("reproduce", "Run every book experiment and compare with the book");
  auto run = std::make_shared<RunFlags>();
  auto only = std::make_shared<std::vector<std::string>>();
  auto strict = std::make_shared<bool>(false);
  auto seeds = std::make_shared<int>(5);
  auto curves_dir = std::make_shared<std::string>();
  cmd->add_option("--only", *only, "Run only these experiments");
  cmd->add_option("--seeds", *seeds,
                  "Run each experiment with N seeds from --seed on (split, init, shuffling) and judge the mean: "
                  "a random split moves the test metric by more than the gap between frameworks")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_flag("--strict", *strict, "Exit with status 1 when any experiment misses its target");
  Flags flags(cmd);
  bind_run_flags(flags, *run, /*device=*/true, /*save=*/false);
  cmd->remove_option(cmd->get_option("--curves"));  // a run's FILE is this command's DIR
  cmd->remove_option(cmd->get_option("--log"));
  cmd->add_option("--curves", *curves_dir, "Write one SVG learning curve per experiment (its last seed) into DIR")
      ->check(non_empty_path())
      ->check(CLI::ExistingDirectory);
  cmd->callback([run, only, strict, seeds, curves_dir] {
    const RunSettings base = run->settings;
    nlohmann::json all = nlohmann::json::array();
    struct Row {
      const Experiment* experiment;
      RunResult last;                       // the run of the last seed
      RunSettings settings;                 // its settings
      std::vector<double> values;           // the headline metric, one per seed
      std::map<std::string, double> means;  // every metric, averaged over the seeds
      double examples_per_sec = 0;
    };
    auto chosen = [&](const Experiment& e) {
      return only->empty() || std::find(only->begin(), only->end(), e.name) != only->end();
    };
    auto curve_of = [&](const Experiment& e) { return curves_dir->empty() ? "" : *curves_dir + "/" + e.name + ".svg"; };
    // Every curve this command will write, checked against the data before the first run.
    std::vector<NamedPath> curves;
    for (const Experiment& e : experiments())
      if (chosen(e)) curves.push_back({"--curves", curve_of(e)});
    check_outputs(curves, data_inputs("--data", base.data));
    std::vector<Row> rows;
    for (const Experiment& e : experiments()) {
      if (!chosen(e)) continue;
      std::printf("== %s (%s) ==\n", e.name.c_str(), e.source.c_str());
      Row row{&e, {}, {}, {}, {}, 0};
      for (int k = 0; k < *seeds; ++k) {
        std::unique_ptr<Recipe> recipe = e.recipe();
        RunFlags one = *run;
        one.settings = base;
        one.settings.seed = base.seed + static_cast<uint64_t>(k);
        if (!recipe->runs_on_cuda()) one.settings.device = Device::cpu();
        recipe->for_reproduce(one.settings);
        one.curves = k + 1 == *seeds ? curve_of(e) : "";
        if (*seeds > 1) std::printf("-- seed %llu --\n", static_cast<unsigned long long>(one.settings.seed));
        RunReport report(one, e.name, e.metric);
        row.last = recipe->run(one.settings);
        report.finish();
        row.settings = one.settings;
        row.values.push_back(row.last.metrics.at(e.metric));
        for (const auto& [name, value] : row.last.metrics) row.means[name] += value / *seeds;
        row.examples_per_sec += row.last.examples_per_sec / *seeds;
      }
      rows.push_back(std::move(row));
    }
    std::printf("\n%-16s %-10s %8s %7s %8s %8s %9s %-6s %13s\n", "model", "metric", "curec", "sd", "book", "pytorch",
                "target", "met", "examples/sec");
    bool all_met = true;
    for (const Row& row : rows) {
      const Experiment* e = row.experiment;
      const double n = static_cast<double>(row.values.size());
      const double v = row.means.at(e->metric);
      double var = 0;
      for (double x : row.values) var += (x - v) * (x - v) / std::max(1.0, n - 1);
      bool met = e->lower_is_better ? v <= e->target : v >= e->target;
      all_met &= met;
      auto figure = [](double x) {
        char buf[16];
        if (x == kNoFigure) return std::string("-");
        std::snprintf(buf, sizeof buf, "%.3f", x);
        return std::string(buf);
      };
      char sd[16] = "-";
      if (n > 1) std::snprintf(sd, sizeof sd, "%.4f", std::sqrt(var));
      std::printf("%-16s %-10s %8.4f %7s %8s %8s %s%7.3f %-6s %13.0f\n", e->name.c_str(), e->metric.c_str(), v, sd,
                  figure(e->book).c_str(), figure(e->pytorch).c_str(), e->lower_is_better ? "<=" : ">=", e->target,
                  met ? "yes" : "NO", row.examples_per_sec);
      nlohmann::json j = result_json(row.last, row.settings);
      if (n > 1) {
        for (const auto& [name, mean] : row.means) j[name] = mean;  // the headline mean is judged; its runs beside it
        j[e->metric + "_runs"] = row.values;
        j[e->metric + "_sd"] = std::sqrt(var);
        j["seeds"] = row.values.size();
        if (auto it = j.find("split"); it != j.end()) {  // name the seeds, not the last one
          std::string split = it->get<std::string>();
          const std::string last = ", seed " + std::to_string(base.seed + row.values.size() - 1);
          if (split.size() >= last.size() && split.compare(split.size() - last.size(), last.size(), last) == 0)
            *it = split.substr(0, split.size() - last.size()) + ", seeds " + std::to_string(base.seed) + ".." +
                  std::to_string(base.seed + row.values.size() - 1);
        }
        j["examples_per_sec"] = row.examples_per_sec;
      }
      if (e->book != kNoFigure) j["book"] = e->book;
      if (e->pytorch != kNoFigure) j["pytorch"] = e->pytorch;
      j["target_met"] = met;
      all.push_back(j);
    }
    if (!all_met && *seeds == 1)
      std::printf("\nOne seed is one random split, which moves a test RMSE by about 0.01 either way; "
                  "`curec reproduce --seeds 5` judges the mean over five.\n");
    if (!all_met && *strict) set_exit_code(1);
    if (run->json) print_json_line(nlohmann::json{{"experiments", all}});
  });
}

}  // namespace curec::app
