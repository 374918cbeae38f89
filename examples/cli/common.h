#pragma once
// Options shared by the commands that train.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <string>

#include "train/experiment.h"

namespace curec::cli {

struct TrainFlags {
  std::string data, format, split, variant, device = "cpu", save;
  int epochs = -1;
  int64_t batch_size = -1, factors = -1;
  double lr = -1, wd = -1;
  uint64_t seed = 0;
  bool json = false;
  bool early_stop = false;
  bool fused = false;
};

void add_train_flags(CLI::App* cmd, TrainFlags& f);
train::RunOptions to_run_options(const TrainFlags& f);
nlohmann::json result_json(const train::RunResult& r, const train::RunOptions& o);
// Prints the JSON object as the last line of stdout.
void print_json_line(const nlohmann::json& j);

}  // namespace curec::cli
