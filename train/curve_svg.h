#pragma once
// Learning curves as a standalone SVG document (`--curves FILE.svg`) that a browser shows:
// a title, an x axis (epochs), a left and an optional right y axis (train loss and a test
// metric live on different scales), a legend, and one polyline per series.
#include <string>
#include <utility>
#include <vector>

#include "train/metrics_log.h"

namespace curec::train {

enum class CurveAxis { left, right };

struct CurveSeries {
  std::string name;
  std::vector<std::pair<double, double>> points;  // (epoch, value); a non-finite value is a gap
  CurveAxis axis = CurveAxis::left;
};

struct CurveChart {
  std::string title;
  std::string x_label = "epoch";
  std::string left_label;   // e.g. "train loss"
  std::string right_label;  // e.g. "test RMSE"; shown only when a series uses the right axis
  std::vector<CurveSeries> series;
};

// Round tick positions covering [lo, hi]: a step of 1, 2 or 5 x 10^k giving at most about
// max_ticks ticks, and an axis range [lo, hi] widened to whole steps. `integer` keeps the step
// >= 1 (epochs). An empty range (a constant series) is widened around the value.
struct AxisTicks {
  double lo = 0, hi = 1, step = 1;
  std::vector<double> values;
};
AxisTicks nice_ticks(double lo, double hi, int max_ticks = 6, bool integer = false);

// A tick's text with as many decimals as its step needs: (0.25, 0.05) -> "0.25", (2, 1) -> "2".
std::string tick_label(double value, double step);

// Text made safe for XML character data and attribute values.
std::string xml_escape(const std::string& text);

// The SVG document. Series with no finite points are listed in the legend and draw nothing;
// a run of one finite point between gaps is drawn as a marker.
std::string curve_svg(const CurveChart& chart);

// The chart a training run draws: train loss on the left axis and `metric` (e.g. "rmse") on the
// right, per epoch. An epoch without the metric (evaluated only every few epochs) is a gap; a
// metric that no epoch has is an Error listing the names there are.
CurveChart learning_curve(const std::string& title, const std::vector<LoggedEpoch>& epochs, const std::string& metric);

// Writes curve_svg(chart) to `path` through `path.tmp.<pid>` and a rename, so a failure never
// leaves a torn file nor replaces the previous one; a failure is an Error naming the path.
void write_curve_svg(const std::string& path, const CurveChart& chart);

}  // namespace curec::train
