#include "examples/cli/common.h"

#include <cstdio>

#include "core/device.h"
#include "core/error.h"
#include "data/split_spec.h"

namespace curec::cli {

namespace {
// "must be positive" without CLI11's range of doubles in the message.
const CLI::Validator positive([](const std::string& v) -> std::string {
  try {
    size_t used = 0;
    double x = std::stod(v, &used);
    if (used == v.size() && x > 0) return {};
  } catch (const std::exception&) {
  }
  return "must be a positive number, got '" + v + "'";
}, "POSITIVE");
const CLI::Validator non_negative([](const std::string& v) -> std::string {
  try {
    size_t used = 0;
    double x = std::stod(v, &used);
    if (used == v.size() && x >= 0) return {};
  } catch (const std::exception&) {
  }
  return "must be a number >= 0, got '" + v + "'";
}, "NON-NEGATIVE");
}  // namespace

void add_train_flags(CLI::App* cmd, TrainFlags& f) {
  cmd->add_option("--data", f.data, "MovieLens folder, ratings file, or 'synthetic' (default: $CUREC_DATA_DIR/ml-100k)");
  cmd->add_option("--format", f.format,
                  "Format of a --data file when not detected: ml-100k, ml-dat, ml-csv, csv, tsv (ratings); "
                  "criteo, avazu, d2l (CTR)")
      ->check(CLI::IsMember({"ml-100k", "ml-dat", "ml-csv", "csv", "tsv", "criteo", "avazu", "d2l"}));
  cmd->add_option("--split", f.split,
                  "Train/test split: random (the book's 90/10), random:R, seq, loo, u1..u5, ua, ub (ML-100K files) "
                  "or test:FILE (FILE's ratings are the test set); NeuMF and Caser take seq only")
      ->check([](const std::string& s) { return data::split_spec_error(s); });
  cmd->add_option("--variant", f.variant, "A model's variant: autorec item (the book's) or user (the course's)");
  cmd->add_option("--device", f.device, "cpu, cuda or cuda:N")->check([](const std::string& s) {
    try {
      Device::parse(s);
      return std::string();
    } catch (const Error& e) {
      return e.message();
    }
  });
  cmd->add_option("--epochs", f.epochs, "Epochs (default: the book's)")->check(positive);
  cmd->add_option("--batch-size", f.batch_size, "Batch size (default: the book's)")->check(positive);
  cmd->add_option("--lr", f.lr, "Learning rate")->check(positive);
  cmd->add_option("--wd", f.wd, "Weight decay")->check(non_negative);
  cmd->add_option("--factors", f.factors, "Latent factors")->check(positive);
  cmd->add_option("--seed", f.seed, "Random seed (split, init, shuffling)");
  cmd->add_option("--save", f.save, "Write the trained model to FILE");
  cmd->add_flag("--early-stop", f.early_stop, "CTR models: validate on the last tenth of train, keep the best epoch");
  cmd->add_flag("--fused", f.fused, "MF: run each training step as one fused kernel instead of autograd");
  cmd->add_flag("--json", f.json, "End stdout with one JSON object of the results");
}

train::RunOptions to_run_options(const TrainFlags& f) {
  train::RunOptions o;
  // A named format travels as a "FORMAT:PATH" data spec, which every reader accepts.
  o.data = f.format.empty() ? f.data : f.format + ":" + f.data;
  o.device = Device::parse(f.device);
  o.epochs = f.epochs;
  o.batch_size = f.batch_size;
  o.lr = f.lr;
  o.wd = f.wd;
  o.factors = f.factors;
  o.seed = f.seed;
  o.split = f.split;
  o.variant = f.variant;
  o.save = f.save;
  o.early_stop = f.early_stop;
  o.fused = f.fused;
  return o;
}

nlohmann::json result_json(const train::RunResult& r, const train::RunOptions& o) {
  nlohmann::json j;
  j["model"] = r.model;
  j["device"] = o.device.str();
  j["epochs"] = r.epochs;
  for (const auto& [k, v] : r.metrics) j[k] = v;
  j["examples_per_sec"] = r.examples_per_sec;
  j["train_seconds"] = r.train_seconds;
  for (const auto& [k, v] : r.info) j[k] = v;
  return j;
}

void print_json_line(const nlohmann::json& j) {
  std::fflush(stdout);
  std::printf("%s\n", j.dump().c_str());
  std::fflush(stdout);
}

}  // namespace curec::cli
