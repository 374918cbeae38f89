#include "train/progress.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <utility>

#include "core/error.h"

namespace curec::train {
namespace {

constexpr int kBarWidth = 28;

// 950 -> "950", 12345 -> "12.3k", 4.2e6 -> "4.2M".
std::string short_count(double v) {
  char buf[32];
  if (v >= 1e9)
    std::snprintf(buf, sizeof(buf), "%.1fG", v / 1e9);
  else if (v >= 1e6)
    std::snprintf(buf, sizeof(buf), "%.1fM", v / 1e6);
  else if (v >= 1e4)
    std::snprintf(buf, sizeof(buf), "%.1fk", v / 1e3);
  else
    std::snprintf(buf, sizeof(buf), "%.0f", v);
  return buf;
}

// 75 -> "1:15", 3725 -> "1:02:05".
std::string clock_time(double seconds) {
  auto s = static_cast<int64_t>(std::llround(seconds));
  char buf[32];
  if (s >= 3600)
    std::snprintf(buf, sizeof(buf), "%lld:%02lld:%02lld", static_cast<long long>(s / 3600),
                  static_cast<long long>(s / 60 % 60), static_cast<long long>(s % 60));
  else
    std::snprintf(buf, sizeof(buf), "%lld:%02lld", static_cast<long long>(s / 60), static_cast<long long>(s % 60));
  return buf;
}

}  // namespace

bool ProgressBar::enabled_for(std::FILE* out, bool quiet) {
  return !quiet && out != nullptr && out != stdout && ::isatty(::fileno(out)) == 1;
}

ProgressBar::ProgressBar(std::FILE* out, std::string label, int64_t total_steps)
    : ProgressBar(out, std::move(label), total_steps, enabled_for(out, false)) {}

ProgressBar::ProgressBar(std::FILE* out, std::string label, int64_t total_steps, bool enabled, Clock clock)
    : out_(out), label_(std::move(label)), total_steps_(total_steps), enabled_(enabled), clock_(std::move(clock)) {
  CUREC_CHECK(total_steps >= 0, "ProgressBar \"", label_, "\": total_steps is ", total_steps, "; it must be >= 0");
  CUREC_CHECK(!enabled || out != nullptr, "ProgressBar \"", label_, "\": enabled without a FILE to draw on");
  CUREC_CHECK(!enabled || out != stdout, "ProgressBar \"", label_,
              "\": draws on stderr only; stdout carries results");
  if (!clock_) clock_ = [] { return std::chrono::steady_clock::now(); };
  start_ = clock_();
}

ProgressBar::~ProgressBar() { finish(); }

std::string ProgressBar::render(int64_t done_steps, int64_t examples, double elapsed_seconds) const {
  double fraction = total_steps_ > 0 ? static_cast<double>(done_steps) / static_cast<double>(total_steps_) : 1.0;
  int filled = static_cast<int>(fraction * kBarWidth);
  std::string line = label_ + " [" + std::string(filled, '#') + std::string(kBarWidth - filled, '.') + "] ";
  char pct[16];
  std::snprintf(pct, sizeof(pct), "%3d%%", static_cast<int>(fraction * 100.0));
  line += pct;
  // With no time elapsed or nothing done yet there is no rate to report, so say so.
  if (elapsed_seconds > 0 && done_steps > 0) {
    line += "  " + short_count(static_cast<double>(examples) / elapsed_seconds) + " ex/s";
    double remaining =
        elapsed_seconds * static_cast<double>(total_steps_ - done_steps) / static_cast<double>(done_steps);
    line += "  ETA " + clock_time(remaining);
  } else {
    line += "  - ex/s  ETA -";
  }
  return line;
}

void ProgressBar::update(int64_t done_steps, int64_t examples) {
  CUREC_CHECK(done_steps >= 0 && done_steps <= total_steps_, "ProgressBar \"", label_, "\": done_steps ", done_steps,
              " is outside 0..", total_steps_);
  CUREC_CHECK(examples >= 0, "ProgressBar \"", label_, "\": examples is ", examples, "; it must be >= 0");
  if (!enabled_ || finished_) return;
  auto now = clock_();
  if (drawn_ && now - last_draw_ < kRedrawInterval) return;
  drawn_ = true;
  last_draw_ = now;
  std::string line = render(done_steps, examples, std::chrono::duration<double>(now - start_).count());
  // A shorter frame must cover the tail of a longer one.
  size_t width = line.size();
  if (width < last_width_) line.append(last_width_ - width, ' ');
  last_width_ = std::max(last_width_, width);
  std::fputc('\r', out_);
  std::fputs(line.c_str(), out_);
  std::fflush(out_);
}

void ProgressBar::finish() {
  if (finished_) return;
  finished_ = true;
  if (!enabled_ || !drawn_) return;
  std::fputc('\r', out_);
  std::fputs(std::string(last_width_, ' ').c_str(), out_);
  std::fputc('\r', out_);
  std::fflush(out_);
}

}  // namespace curec::train
