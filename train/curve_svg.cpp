#include "train/curve_svg.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <ostream>
#include <sstream>

#include "core/atomic_file.h"
#include "core/error.h"

namespace curec::train {
namespace {

constexpr double kWidth = 720, kHeight = 420;
constexpr double kCharWidth = 7;  // a rough width of one 12px sans-serif character, for layout
const char* const kColors[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"};

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.2f", v);
  return buf;
}

const char* color(size_t i) { return kColors[i % (sizeof(kColors) / sizeof(kColors[0]))]; }

// Finite (x, y) bounds over the series on one axis (or all series for x); false if none.
bool bounds(const CurveChart& chart, bool want_x, const CurveAxis* axis, double& lo, double& hi) {
  bool any = false;
  for (const auto& s : chart.series) {
    if (axis && s.axis != *axis) continue;
    for (auto [x, y] : s.points) {
      if (!std::isfinite(x) || !std::isfinite(y)) continue;
      double v = want_x ? x : y;
      lo = any ? std::min(lo, v) : v;
      hi = any ? std::max(hi, v) : v;
      any = true;
    }
  }
  return any;
}

// A linear map from an axis range onto pixels.
struct Scale {
  double lo, hi, px_lo, px_hi;
  double operator()(double v) const { return px_lo + (v - lo) / (hi - lo) * (px_hi - px_lo); }
};

// Each run of finite points between gaps is its own polyline; a run of one is a marker.
void write_runs(std::ostream& o, const CurveSeries& s, const Scale& sx, const Scale& sy, const char* stroke,
                const char* dash) {
  std::vector<std::pair<double, double>> run;
  auto flush = [&] {
    if (run.size() == 1) {
      o << "<circle cx=\"" << num(run[0].first) << "\" cy=\"" << num(run[0].second) << "\" r=\"3\" fill=\"" << stroke
        << "\"/>\n";
    } else if (run.size() > 1) {
      o << "<polyline fill=\"none\" stroke=\"" << stroke << "\" stroke-width=\"2\"" << dash << " points=\"";
      for (size_t k = 0; k < run.size(); ++k) o << (k ? " " : "") << num(run[k].first) << ',' << num(run[k].second);
      o << "\"/>\n";
    }
    run.clear();
  };
  for (auto [x, y] : s.points) {
    if (std::isfinite(x) && std::isfinite(y))
      run.emplace_back(sx(x), sy(y));
    else
      flush();
  }
  flush();
}

}  // namespace

AxisTicks nice_ticks(double lo, double hi, int max_ticks, bool integer) {
  CUREC_CHECK(max_ticks >= 2, "nice_ticks: max_ticks is ", max_ticks, "; it must be >= 2");
  CUREC_CHECK(std::isfinite(lo) && std::isfinite(hi) && lo <= hi && std::isfinite(hi - lo), "nice_ticks: range [", lo,
              ", ", hi, "] is not a finite, ordered range");
  if (hi - lo <= 1e-12 * std::max(1.0, std::fabs(lo))) {
    double pad = lo == 0 ? 1.0 : std::fabs(lo) * 0.1;
    lo -= pad;
    hi += pad;
  }
  double raw = (hi - lo) / (max_ticks - 1);
  double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  double r = raw / magnitude;
  double step = (r <= 1 ? 1 : r <= 2 ? 2 : r <= 5 ? 5 : 10) * magnitude;
  if (integer) step = std::max(step, 1.0);
  // Positions are multiples of the step (not a running sum), so 0.1 + 0.2 drift never shows.
  double first = std::floor(lo / step + 1e-9), last = std::ceil(hi / step - 1e-9);
  AxisTicks t;
  t.step = step;
  t.lo = first * step;
  t.hi = last * step;
  for (double k = first; k <= last; ++k) t.values.push_back(k == 0 ? 0.0 : k * step);
  return t;
}

std::string tick_label(double value, double step) {
  char buf[32];
  if (std::fabs(value) < step * 1e-6) value = 0;  // never "-0.00"
  double magnitude = std::max(std::fabs(value), step);
  if (magnitude >= 1e6 || step < 1e-4) {
    std::snprintf(buf, sizeof(buf), "%.3g", value);
  } else {
    int decimals = step >= 1 ? 0 : static_cast<int>(std::ceil(-std::log10(step) - 1e-9));
    std::snprintf(buf, sizeof(buf), "%.*f", decimals, value);
  }
  return buf;
}

std::string xml_escape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        // XML 1.0 forbids most control characters even when escaped.
        out += (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n' && c != '\r') ? ' ' : c;
    }
  }
  return out;
}

std::string curve_svg(const CurveChart& chart) {
  const CurveAxis left = CurveAxis::left, right = CurveAxis::right;
  bool has_right =
      std::any_of(chart.series.begin(), chart.series.end(), [](auto& s) { return s.axis == CurveAxis::right; });
  bool has_left = !has_right || std::any_of(chart.series.begin(), chart.series.end(),
                                            [](auto& s) { return s.axis == CurveAxis::left; });

  // The legend wraps into rows above the plot; each item is a line sample and its name.
  struct Item {
    double x, row;
  };
  std::vector<Item> items;
  double margin_l = 72, margin_r = has_right ? 72 : 24, x = margin_l, row = 0;
  for (const auto& s : chart.series) {
    double w = 28 + kCharWidth * static_cast<double>(s.name.size() + (s.axis == right ? 8 : 0)) + 18;
    if (x > margin_l && x + w > kWidth - margin_r) x = margin_l, ++row;
    items.push_back({x, row});
    x += w;
  }
  double legend_top = 42, margin_t = legend_top + 18 * (chart.series.empty() ? 0 : row + 1) + 8, margin_b = 48;

  double xlo = 0, xhi = 1, llo = 0, lhi = 1, rlo = 0, rhi = 1;
  bounds(chart, true, nullptr, xlo, xhi);
  bounds(chart, false, &left, llo, lhi);
  bounds(chart, false, &right, rlo, rhi);
  AxisTicks xt = nice_ticks(xlo, xhi, 8, true), lt = nice_ticks(llo, lhi), rt = nice_ticks(rlo, rhi);
  double px_l = margin_l, px_r = kWidth - margin_r, px_t = margin_t, px_b = kHeight - margin_b;
  CUREC_CHECK(px_b - px_t >= 100, "curve_svg \"", chart.title, "\": ", chart.series.size(),
              " series leave no room for the plot under their legend; draw fewer series per chart");
  Scale sx{xt.lo, xt.hi, px_l, px_r}, sl{lt.lo, lt.hi, px_b, px_t}, sr{rt.lo, rt.hi, px_b, px_t};

  std::ostringstream o;
  o << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << kWidth << "\" height=\"" << kHeight
    << "\" viewBox=\"0 0 " << kWidth << ' ' << kHeight << "\" font-family=\"sans-serif\" font-size=\"12\">\n"
    << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
    << "<text x=\"" << num(kWidth / 2) << "\" y=\"24\" text-anchor=\"middle\" font-size=\"15\">"
    << xml_escape(chart.title) << "</text>\n";

  o << "<g stroke=\"#e0e0e0\">\n";
  for (double v : xt.values)
    o << "<line x1=\"" << num(sx(v)) << "\" y1=\"" << num(px_t) << "\" x2=\"" << num(sx(v)) << "\" y2=\"" << num(px_b)
      << "\"/>\n";
  for (double v : (has_left ? lt : rt).values) {
    double y = has_left ? sl(v) : sr(v);
    o << "<line x1=\"" << num(px_l) << "\" y1=\"" << num(y) << "\" x2=\"" << num(px_r) << "\" y2=\"" << num(y)
      << "\"/>\n";
  }
  o << "</g>\n<rect x=\"" << num(px_l) << "\" y=\"" << num(px_t) << "\" width=\"" << num(px_r - px_l) << "\" height=\""
    << num(px_b - px_t) << "\" fill=\"none\" stroke=\"black\"/>\n";

  for (double v : xt.values)
    o << "<text x=\"" << num(sx(v)) << "\" y=\"" << num(px_b + 16) << "\" text-anchor=\"middle\">"
      << tick_label(v, xt.step) << "</text>\n";
  o << "<text x=\"" << num((px_l + px_r) / 2) << "\" y=\"" << num(kHeight - 10) << "\" text-anchor=\"middle\">"
    << xml_escape(chart.x_label) << "</text>\n";
  auto y_axis = [&](const AxisTicks& t, const Scale& s, double tick_x, const char* anchor, double label_x,
                    const std::string& label) {
    for (double v : t.values)
      o << "<text x=\"" << num(tick_x) << "\" y=\"" << num(s(v) + 4) << "\" text-anchor=\"" << anchor << "\">"
        << tick_label(v, t.step) << "</text>\n";
    o << "<text transform=\"translate(" << num(label_x) << ' ' << num((px_t + px_b) / 2)
      << ") rotate(-90)\" text-anchor=\"middle\">" << xml_escape(label) << "</text>\n";
  };
  if (has_left) y_axis(lt, sl, px_l - 6, "end", 16, chart.left_label);
  if (has_right) y_axis(rt, sr, px_r + 6, "start", kWidth - 10, chart.right_label);

  for (size_t i = 0; i < chart.series.size(); ++i) {
    const CurveSeries& s = chart.series[i];
    const Scale& sy = s.axis == right ? sr : sl;
    const char* dash = s.axis == right ? " stroke-dasharray=\"6 3\"" : "";
    o << "<g class=\"series\"><title>" << xml_escape(s.name) << "</title>\n";
    write_runs(o, s, sx, sy, color(i), dash);
    double lx = items[i].x, ly = legend_top + 18 * items[i].row;
    o << "<line x1=\"" << num(lx) << "\" y1=\"" << num(ly - 4) << "\" x2=\"" << num(lx + 22) << "\" y2=\""
      << num(ly - 4) << "\" stroke=\"" << color(i) << "\" stroke-width=\"2\"" << dash << "/>\n"
      << "<text x=\"" << num(lx + 28) << "\" y=\"" << num(ly) << "\">" << xml_escape(s.name)
      << (s.axis == right ? " (right)" : "") << "</text>\n</g>\n";
  }
  o << "</svg>\n";
  return o.str();
}

CurveChart learning_curve(const std::string& title, const std::vector<LoggedEpoch>& epochs, const std::string& metric) {
  CurveChart chart;
  chart.title = title;
  chart.left_label = "train loss";
  chart.right_label = "test " + metric;
  CurveSeries loss{"train loss", {}, CurveAxis::left}, test{"test " + metric, {}, CurveAxis::right};
  bool found = false;
  std::string names;
  for (const LoggedEpoch& e : epochs) {
    auto x = static_cast<double>(e.epoch);
    loss.points.emplace_back(x, e.train_loss);
    double value = std::numeric_limits<double>::quiet_NaN();
    for (const auto& [name, v] : e.metrics) {
      if (name == metric) value = v, found = true;
      if (names.find(" " + name + " ") == std::string::npos) names += " " + name + " ";
    }
    test.points.emplace_back(x, value);
  }
  CUREC_CHECK(epochs.empty() || found, "learning_curve \"", title, "\": no epoch has the metric \"", metric,
              "\"; the epochs have:", names.empty() ? " no metrics" : names);
  chart.series = {loss, test};
  return chart;
}

void write_curve_svg(const std::string& path, const CurveChart& chart) {
  write_file_atomically(path, curve_svg(chart), "write_curve_svg");
}

}  // namespace curec::train
