#pragma once
// A recipe: one book or course experiment as a struct of the library's own config types with
// the book's values as defaults. The command line binds flags straight onto those fields
// (app/flags.h), so a value reaches the trainer unchanged and a flag a recipe does not take is
// a usage error; `curec reproduce` runs recipes as they are.
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/device.h"
#include "nn/module.h"
#include "train/trainer.h"

namespace curec::dist {
class Communicator;
}

namespace curec::app {

class Flags;

// What every run shares: where it runs, its seed, what it reads and writes, how it reports.
struct RunSettings {
  std::string data;           // a MovieLens folder, a ratings or CTR file, "synthetic"; "" = the recipe's default
  std::string format;         // the data's format when it cannot be detected ("" = detect)
  Device device = Device::cpu();  // where the model trains
  uint64_t seed = 0;          // split, init, batch order, negatives, dropout
  std::string save;           // the trained model's file ("" = none); app/saved_model.h
  bool verbose = true;        // the book's per-epoch lines on stdout
  bool log_all_ranks = false; // data parallel: every rank's epoch lines, marked "[rank r]" (else rank 0's only)
  // Reporting and control shared by every recipe: epoch records (logs, curves), steps
  // (progress), interruption. A recipe adds its own printing and passes them to the trainer.
  train::TrainerHooks hooks;
  // This process's part of a data-parallel run (app/data_parallel.h sets it and the hooks).
  train::Sharding sharding;
  // This rank's communicator in a data-parallel run (null with one rank), for a recipe that
  // exchanges more than the trainer's hooks do: ALS all-gathers its factor tables.
  dist::Communicator* communicator = nullptr;
  // The data argument as the readers take it: FORMAT:PATH when a format is named.
  std::string data_spec() const { return format.empty() ? data : format + ":" + data; }
};

struct RunResult {
  std::string model;
  std::map<std::string, double> metrics;  // e.g. test_rmse, train_loss
  int epochs = 0;
  double train_seconds = 0;
  double examples_per_sec = 0;
  std::map<std::string, std::string> info;  // data set, split, ...
  // Data parallelism: what rank 0's gradient exchange moved per step, in bytes
  // (dist::SyncStats::bytes, averaged over the steps); 0 on one rank.
  double exchange_bytes_per_step = 0;
  std::shared_ptr<nn::Module> trained;      // the trained model, on the run's device
};

class Recipe {
 public:
  virtual ~Recipe() = default;
  virtual std::string name() const = 0;
  // Binds every flag this recipe takes onto its fields.
  virtual void bind(Flags& flags) = 0;
  virtual RunResult run(const RunSettings& settings) = 0;
  // Whether the recipe takes --device (BPMF's sampler is CPU code only).
  virtual bool runs_on_cuda() const { return true; }
  // Whether it runs on several ranks, and so takes --world-size: every recipe that trains
  // through the Trainer, and ALS (rows split across ranks); not BPMF (one Gibbs chain).
  virtual bool data_parallel() const { return true; }
  // Data parallel: every how many polls of hooks.should_stop the ranks agree on stopping (a
  // collective on the host): a step is short, so every 8th; a sweep is long.
  virtual int stop_poll_every() const { return 8; }
  // `curec reproduce` without --data: what differs from the book's defaults to reach the stated
  // target (CTR models: the Criteo sample with early stopping).
  virtual void for_reproduce(RunSettings&) {}
};

// For experiments from the course notes, which print no figure to compare with.
inline constexpr double kNoFigure = -1.0;

struct Experiment {
  std::string name;         // "mf"
  std::string source;       // "D2L §15.3", "course notes: ALS with biases"
  std::string metric;       // the headline metric, e.g. "test_rmse"
  double book = 0;          // what the book printed
  double pytorch = 0;       // PyTorch with the same settings (shared/anchors/pytorch_book.py)
  double target = 0;        // curec's acceptance bound on the mean over seeds
  bool lower_is_better = true;
  std::function<std::unique_ptr<Recipe>()> recipe;  // the book's settings
};

const std::vector<Experiment>& experiments();
const Experiment& find_experiment(const std::string& name);

}  // namespace curec::app
