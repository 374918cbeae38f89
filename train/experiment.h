#pragma once
// A book experiment: a model trained with the book's settings on the book's data, its metrics,
// and the figures the book and a PyTorch re-implementation reached, for `curec reproduce`.
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "core/device.h"
#include "nn/module.h"

namespace curec::train {

struct RunOptions {
  std::string data;           // a MovieLens folder, a ratings file, or "synthetic"; "" = default
  Device device = Device::cpu();
  int epochs = -1;            // -1: the book's value
  int64_t batch_size = -1;
  double lr = -1, wd = -1;
  int64_t factors = -1;
  uint64_t seed = 0;
  std::string split;          // rating models: data/split_spec.h ("" = the book's random 90/10)
  std::string variant;        // a model's variant, e.g. AutoRec "item" or "user" ("" = the book's)
  std::string save;           // model file to write ("" = none)
  bool verbose = true;        // print the book's per-epoch lines
  bool early_stop = false;    // CTR models: hold out the last tenth of train, restore the best epoch
  bool fused = false;         // MF: one fused kernel per step instead of autograd (ops/mf_step.h)
};

struct RunResult {
  std::string model;
  std::map<std::string, double> metrics;  // e.g. test_rmse, train_loss
  int epochs = 0;
  double train_seconds = 0;
  double examples_per_sec = 0;
  std::map<std::string, std::string> info;  // data set, split, ...
  std::shared_ptr<nn::Module> trained;        // the trained model, on the run's device
};

// For experiments from the course notes, which print no figure to compare with.
inline constexpr double kNoFigure = -1.0;

struct Experiment {
  std::string name;         // "mf"
  std::string section;      // "15.3"
  std::string metric;       // the headline metric, e.g. "test_rmse"
  double book = 0;          // what the book printed
  double pytorch = 0;       // PyTorch with the same settings (shared/anchors/pytorch_book.py)
  double target = 0;        // curec's acceptance bound
  bool lower_is_better = true;
  std::function<RunResult(const RunOptions&)> run;
  // What `curec reproduce` runs when the user names no data: the data the target is stated
  // for ("" = the experiment's default) and whether it early-stops.
  std::string reproduce_data = "";
  bool reproduce_early_stop = false;
  std::vector<std::string> variants = {};  // what --variant may name; the first is the book's

  // e.run(o), after an error naming the choices when o.variant is not one of `variants`.
  RunResult run_checked(const RunOptions& o) const;
};

// For experiments with one fixed split: an error unless --split is empty or names it.
void require_split(const RunOptions& o, const std::string& model, const std::string& only);

const std::vector<Experiment>& experiments();
const Experiment& find_experiment(const std::string& name);

}  // namespace curec::train
