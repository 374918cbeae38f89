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

void report_sweep(const RunSettings& s, const train::EpochRecord& r) {
  if (s.verbose) print_epoch(r);
  if (s.hooks.on_epoch) s.hooks.on_epoch(r);
  if (s.hooks.should_stop && s.hooks.should_stop())
    throw train::Interrupted("interrupted after sweep " + std::to_string(r.epoch), __FILE__, __LINE__);
}

RunResult rating_result(const std::string& model, const train::RatingTrainResult& r, const std::string& data,
                        const std::string& split) {
  RunResult out;
  out.model = model;
  out.epochs = static_cast<int>(r.epochs.size());
  out.metrics["train_loss"] = r.final_train_loss();
  out.metrics["test_rmse"] = r.final_test_rmse();
  out.train_seconds = r.train_seconds;
  out.examples_per_sec = r.examples_per_sec;
  out.info["data"] = data;
  out.info["split"] = split;
  return out;
}

RunResult ranking_result(const std::string& model, const train::RankingTrainResult& r, const std::string& data,
                         const std::string& ranking) {
  train::RankingEpochReport last = r.last_evaluated();
  RunResult out;
  out.model = model;
  out.epochs = static_cast<int>(r.epochs.size());
  out.metrics["train_loss"] = r.epochs.back().train_loss;
  out.metrics["hit_at_50"] = last.hit;
  out.metrics["auc"] = last.auc;
  out.metrics["ndcg_at_10"] = last.ndcg;
  out.train_seconds = r.train_seconds;
  out.examples_per_sec = r.examples_per_sec;
  out.info["data"] = data;
  out.info["split"] = "sequence-aware (latest interaction per user held out)";
  out.info["ranking"] = ranking;
  return out;
}

}  // namespace curec::app
