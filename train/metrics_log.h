#pragma once
// Per-epoch metrics as JSON lines (`--log FILE`): one object per epoch, e.g.
//   {"epoch":3,"train_loss":0.412,"rmse":0.93,"seconds":1.8}
// Each line is flushed as soon as it is written, so a crash or Ctrl-C keeps every finished epoch.
#include <cstdint>
#include <cstdio>
#include <limits>
#include <string>
#include <utility>
#include <vector>

namespace curec::train {

struct LoggedEpoch {
  int64_t epoch = 0;
  double train_loss = std::numeric_limits<double>::quiet_NaN();
  // In the order they are written; names may not be "epoch", "train_loss" or "seconds".
  std::vector<std::pair<std::string, double>> metrics;
  double seconds = 0;
};

class MetricsLog {
 public:
  // Opens `path` (truncating it, or appending to it for a resumed run). A path whose folder
  // does not exist, or that cannot be opened, is a curec::Error naming the path.
  explicit MetricsLog(const std::string& path, bool append = false);
  ~MetricsLog();
  MetricsLog(const MetricsLog&) = delete;
  MetricsLog& operator=(const MetricsLog&) = delete;

  // JSON has no NaN or infinity: a non-finite train_loss or metric is written as null (a
  // diverged epoch still gets its line), and read_metrics_log reads null back as NaN.
  void write(const LoggedEpoch& record);
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::FILE* file_ = nullptr;
};

// Every line of a file MetricsLog wrote; a malformed line is an Error naming the file and line.
std::vector<LoggedEpoch> read_metrics_log(const std::string& path);

}  // namespace curec::train
