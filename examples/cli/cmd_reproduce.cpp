#include <cstdio>
#include <memory>

#include "examples/cli/commands.h"
#include "examples/cli/common.h"

namespace curec::cli {

void add_reproduce(CLI::App& app) {
  auto* cmd = app.add_subcommand("reproduce", "Run every book experiment and compare with the book");
  auto flags = std::make_shared<TrainFlags>();
  auto only = std::make_shared<std::vector<std::string>>();
  cmd->add_option("--only", *only, "Run only these experiments");
  add_train_flags(cmd, *flags);
  cmd->callback([flags, only] {
    train::RunOptions o = to_run_options(*flags);
    nlohmann::json all = nlohmann::json::array();
    std::vector<std::pair<const train::Experiment*, train::RunResult>> rows;
    for (const train::Experiment& e : train::experiments()) {
      if (!only->empty() && std::find(only->begin(), only->end(), e.name) == only->end()) continue;
      std::printf("== %s (D2L §%s) ==\n", e.name.c_str(), e.section.c_str());
      rows.emplace_back(&e, e.run(o));
    }
    std::printf("\n%-10s %-12s %10s %10s %10s %8s %14s\n", "model", "metric", "curec", "book", "pytorch", "target",
                "examples/sec");
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
      std::printf("%-10s %-12s %10.4f %10s %10s %s%7.3f %14.0f\n", e->name.c_str(), e->metric.c_str(), v,
                  figure(e->book).c_str(), figure(e->pytorch).c_str(), e->lower_is_better ? "<=" : ">=", e->target,
                  r.examples_per_sec);
      nlohmann::json j = result_json(r, o);
      if (e->book != train::kNoFigure) j["book"] = e->book;
      if (e->pytorch != train::kNoFigure) j["pytorch"] = e->pytorch;
      j["target_met"] = met;
      all.push_back(j);
    }
    if (!all_met) set_exit_code(1);
    if (flags->json) print_json_line(nlohmann::json{{"experiments", all}});
  });
}

}  // namespace curec::cli
