#include <cstdio>
#include <memory>

#include "examples/cli/commands.h"
#include "examples/cli/common.h"

namespace curec::cli {

void add_reproduce(CLI::App& app) {
  auto* cmd = app.add_subcommand("reproduce", "Run every book experiment and compare with the book");
  auto flags = std::make_shared<TrainFlags>();
  auto only = std::make_shared<std::vector<std::string>>();
  auto strict = std::make_shared<bool>(false);
  cmd->add_option("--only", *only, "Run only these experiments");
  cmd->add_flag("--strict", *strict, "Exit with status 1 when any experiment misses its target");
  add_train_flags(cmd, *flags);
  cmd->callback([flags, only, strict] {
    train::RunOptions o = to_run_options(*flags);
    nlohmann::json all = nlohmann::json::array();
    std::vector<std::pair<const train::Experiment*, train::RunResult>> rows;
    for (const train::Experiment& e : train::experiments()) {
      if (!only->empty() && std::find(only->begin(), only->end(), e.name) == only->end()) continue;
      std::printf("== %s (D2L §%s) ==\n", e.name.c_str(), e.section.c_str());
      train::RunOptions eo = o;
      if (eo.data.empty() && !e.reproduce_data.empty()) {
        eo.data = e.reproduce_data;
        eo.early_stop = eo.early_stop || e.reproduce_early_stop;
      }
      rows.emplace_back(&e, e.run(eo));
    }
    std::printf("\n%-16s %-10s %8s %8s %8s %9s %-6s %13s\n", "model", "metric", "curec", "book", "pytorch", "target",
                "met", "examples/sec");
    bool all_met = true;
    for (const auto& [e, r] : rows) {
      double v = r.metrics.at(e->metric);
      bool met = e->lower_is_better ? v <= e->target : v >= e->target;
      all_met &= met;
      auto figure = [](double x) {
        char buf[16];
        if (x == train::kNoFigure) return std::string("-");
        std::snprintf(buf, sizeof buf, "%.3f", x);
        return std::string(buf);
      };
      std::printf("%-16s %-10s %8.4f %8s %8s %s%7.3f %-6s %13.0f\n", e->name.c_str(), e->metric.c_str(), v,
                  figure(e->book).c_str(), figure(e->pytorch).c_str(), e->lower_is_better ? "<=" : ">=", e->target,
                  met ? "yes" : "NO", r.examples_per_sec);
      nlohmann::json j = result_json(r, o);
      if (e->book != train::kNoFigure) j["book"] = e->book;
      if (e->pytorch != train::kNoFigure) j["pytorch"] = e->pytorch;
      j["target_met"] = met;
      all.push_back(j);
    }
    if (!all_met && *strict) set_exit_code(1);
    if (flags->json) print_json_line(nlohmann::json{{"experiments", all}});
  });
}

}  // namespace curec::cli
