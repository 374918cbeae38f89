#include "app/report.h"

#include <cmath>
#include <cstdio>

namespace curec::app {

void take_run_settings(train::TrainerConfig& c, const RunSettings& s) {
  const train::TrainerConfig defaults;
  CUREC_CHECK(c.seed == defaults.seed && c.device == defaults.device && c.sharding.world_size == 1,
              "a recipe's trainer config sets its own seed, device or sharding; set them in RunSettings (--seed, "
              "--device, --world-size), which every part of the run shares");
  c.seed = s.seed;
  c.device = s.device;
  c.sharding = s.sharding;
}

void print_epoch(const train::EpochRecord& r, const std::string& prefix) {
  std::string line = prefix;
  char part[160];
  std::snprintf(part, sizeof part, "epoch %d, train loss %.4f", r.epoch, r.train_loss);
  line += part;
  for (const auto& [name, value] : r.test) {
    std::snprintf(part, sizeof part, ", %s %.4f", name.c_str(), value);
    line += part;
  }
  for (const auto& [name, value] : r.validation) {
    std::snprintf(part, sizeof part, ", valid %s %.4f", name.c_str(), value);
    line += part;
  }
  std::snprintf(part, sizeof part, " (%.2f s)\n", r.seconds);
  line += part;
  std::fputs(line.c_str(), stdout);  // one write: ranks' lines do not interleave
  std::fflush(stdout);
}

train::TrainerHooks run_hooks(const RunSettings& s) {
  train::TrainerHooks h = s.hooks;
  if (s.verbose)
    h.on_epoch = [outer = s.hooks.on_epoch](const train::EpochRecord& r) {
      print_epoch(r);
      if (outer) outer(r);
    };
  return h;
}

RunResult run_result(const std::string& model, const train::TrainResult& r, const std::string& data,
                     const std::string& split) {
  RunResult out;
  out.model = model;
  out.epochs = static_cast<int>(r.history.size());
  out.metrics = r.final_test;
  out.metrics["train_loss"] = r.final_train_loss();
  out.train_seconds = r.train_seconds;
  out.examples_per_sec = r.examples_per_sec;
  out.info["data"] = data;
  out.info["split"] = split;
  return out;
}

}  // namespace curec::app
