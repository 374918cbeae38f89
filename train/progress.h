#pragma once
// A one-line progress bar for a terminal: label, bar, percent, examples/s and ETA, redrawn in
// place with '\r'. It only ever draws on a terminal's stderr: stdout carries results (a
// `--json` run prints exactly one JSON line there), and a log file or pipe must not fill up
// with hundreds of carriage-return frames.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>

namespace curec::train {

class ProgressBar {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;
  // Redraws come at most this often, so a fast epoch does not spend its time on the terminal.
  static constexpr std::chrono::milliseconds kRedrawInterval{100};

  // Whether a bar belongs on `out`: never with `quiet`, never on stdout, only on a terminal.
  static bool enabled_for(std::FILE* out, bool quiet);

  // `enabled` defaults to enabled_for(out, false); tests force it on with a file and inject
  // `clock`. A disabled bar writes nothing. `out` may not be stdout even when forced.
  ProgressBar(std::FILE* out, std::string label, int64_t total_steps);
  ProgressBar(std::FILE* out, std::string label, int64_t total_steps, bool enabled, Clock clock = {});
  ~ProgressBar();
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  // `done_steps` of total_steps are done and `examples` examples seen since construction.
  // Draws the first call and then at most once per kRedrawInterval.
  void update(int64_t done_steps, int64_t examples);
  // Clears the bar's line (no newline), so what the caller prints next starts at column 0.
  // Idempotent; the destructor calls it.
  void finish();

  bool enabled() const { return enabled_; }
  // The text of the bar for a given state, without '\r' (exposed for tests).
  std::string render(int64_t done_steps, int64_t examples, double elapsed_seconds) const;

 private:
  std::FILE* out_;
  std::string label_;
  int64_t total_steps_;
  bool enabled_;
  Clock clock_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
  bool drawn_ = false;
  bool finished_ = false;
  size_t last_width_ = 0;
};

}  // namespace curec::train
