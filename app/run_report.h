#pragma once
// What a training run reports besides its result, the same for every model: a progress bar on
// a terminal's stderr, the per-epoch JSON-lines log, the SVG learning curve, and Ctrl-C, which
// stops the run after the current step (a checkpoint being written is finished first) so the
// tool can exit with status 130.
#include <memory>
#include <string>
#include <vector>

#include "app/run_flags.h"
#include "train/metrics_log.h"
#include "train/progress.h"

namespace curec::app {

class RunReport {
 public:
  // Installs the hooks. The log opens at the first epoch (its path was checked before any work,
  // app/output_paths.h), so a run that fails before one leaves a previous log as it was.
  RunReport(RunFlags& run, const std::string& model, const std::string& metric);
  ~RunReport();
  // Writes the curve of the epochs seen.
  void finish();

 private:
  void on_epoch(const train::EpochRecord& r);
  void on_step(int epoch, int64_t step, int64_t steps, int64_t examples);

  RunFlags& run_;
  std::string model_, metric_;
  std::unique_ptr<train::MetricsLog> log_;
  std::unique_ptr<train::ProgressBar> bar_;
  int bar_epoch_ = 0;
  int64_t bar_start_examples_ = 0;
  std::vector<train::LoggedEpoch> epochs_;
};

// Whether Ctrl-C (SIGINT) or SIGTERM arrived since the handlers were installed.
bool interrupted();
void install_interrupt_handlers();

}  // namespace curec::app
