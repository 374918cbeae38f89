#include "app/run_flags.h"

#include <cstdio>

#include "app/output_paths.h"

namespace curec::app {

void bind_run_flags(Flags& f, RunFlags& r, bool device, bool save) {
  RunSettings& s = r.settings;
  f.text("--data", s.data, "MovieLens folder, ratings or CTR file, or 'synthetic' (default: the recipe's data)")
      ->check(non_empty_path());
  f.text("--format", s.format,
         "Format of a --data file when not detected: ml-100k, ml-dat, ml-csv, csv, tsv (ratings); "
         "criteo, avazu, d2l (CTR)")
      ->check(CLI::IsMember({"ml-100k", "ml-dat", "ml-csv", "csv", "tsv", "criteo", "avazu", "d2l"}));
  f.remember(f.command()->add_option("--seed", s.seed, "Random seed (split, init, shuffling, negatives, dropout)"));
  if (device) f.device(s.device);
  if (save) f.text("--save", s.save, "Write the trained model to FILE")->check(non_empty_path());
  f.flag("--json", r.json, "End stdout with one JSON object of the results");
  f.flag("--quiet", r.quiet, "No progress bar on stderr");
  f.text("--log", r.log, "Write each epoch's metrics to FILE as JSON lines")->check(non_empty_path());
  f.text("--curves", r.curves, "Write an SVG learning curve (train loss and the test metric per epoch) to FILE")
      ->check(non_empty_path());
}

nlohmann::json result_json(const RunResult& r, const RunSettings& s) {
  nlohmann::json j;
  j["model"] = r.model;
  j["device"] = s.device.str();
  j["seed"] = s.seed;
  j["epochs"] = r.epochs;
  for (const auto& [k, v] : r.metrics) j[k] = v;
  j["examples_per_sec"] = r.examples_per_sec;
  j["train_seconds"] = r.train_seconds;
  for (const auto& [k, v] : r.info) j[k] = v;
  if (r.exchange_bytes_per_step > 0) j["exchange_bytes_per_step"] = r.exchange_bytes_per_step;
  return j;
}

void print_json_line(const nlohmann::json& j) {
  std::fflush(stdout);
  std::printf("%s\n", j.dump().c_str());
  std::fflush(stdout);
}

}  // namespace curec::app
