#include "app/run_report.h"

#include <atomic>
#include <csignal>

#include "core/atomic_file.h"
#include "train/curve_svg.h"

namespace curec::app {

namespace {
std::atomic<bool> g_interrupted{false};

extern "C" void on_signal(int sig) {
  // The first signal asks the run to stop after its step (a save in progress is finished); a
  // second one ends the process at once, as an uncaught one would.
  if (g_interrupted.exchange(true)) {
    remove_temp_files_in_progress();  // a save cut short leaves no FILE.tmp.PID
    std::signal(sig, SIG_DFL);
    std::raise(sig);
  }
}

train::LoggedEpoch logged(const train::EpochRecord& r) {
  train::LoggedEpoch e;
  e.epoch = r.epoch;
  e.train_loss = r.train_loss;
  e.seconds = r.seconds;
  for (const auto& [k, v] : r.test) e.metrics.emplace_back(k, v);
  for (const auto& [k, v] : r.validation) e.metrics.emplace_back("valid_" + k, v);
  return e;
}
}  // namespace

bool interrupted() { return g_interrupted.load(); }

void install_interrupt_handlers() {
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
}

RunReport::RunReport(RunFlags& run, const std::string& model, const std::string& metric)
    : run_(run), model_(model), metric_(metric) {
  train::TrainerHooks& h = run.settings.hooks;
  h.on_epoch = [this](const train::EpochRecord& r) { on_epoch(r); };
  if (train::ProgressBar::enabled_for(stderr, run.quiet))
    h.on_step = [this](int epoch, int64_t step, int64_t steps, int64_t examples) { on_step(epoch, step, steps, examples); };
  h.should_stop = [] { return interrupted(); };
}

RunReport::~RunReport() = default;

void RunReport::on_step(int epoch, int64_t step, int64_t steps, int64_t examples) {
  if (!bar_ || epoch != bar_epoch_) {
    bar_ = std::make_unique<train::ProgressBar>(stderr, model_ + " epoch " + std::to_string(epoch), steps);
    bar_epoch_ = epoch;
    bar_start_examples_ = examples;
  }
  bar_->update(step, examples - bar_start_examples_);
  if (step == steps) bar_->finish();
}

void RunReport::on_epoch(const train::EpochRecord& r) {
  if (bar_) bar_->finish();
  epochs_.push_back(logged(r));
  if (run_.log.empty()) return;
  // Opened at the first epoch, not before: a run that fails on its data or settings leaves a
  // previous log as it was. A resumed run continues its log.
  if (!log_) log_ = std::make_unique<train::MetricsLog>(run_.log, run_.append_log);
  log_->write(epochs_.back());
}

void RunReport::finish() {
  if (run_.curves.empty()) return;
  train::write_curve_svg(run_.curves, train::learning_curve(model_ + " learning curve", epochs_, metric_));
  if (run_.settings.verbose) std::printf("wrote %s\n", run_.curves.c_str());
}

}  // namespace curec::app
