#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "tests/testing.h"
#include "train/curve_svg.h"

using namespace curec;
using train::CurveAxis;
using train::CurveChart;
using train::CurveSeries;
namespace fs = std::filesystem;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

using testing::read_text;
using testing::TempDir;

// "" when every element is closed in order, quoted attributes are closed and every '&'
// starts an entity; else what is wrong. Enough XML for what curve_svg writes.
std::string xml_problem(const std::string& doc) {
  std::vector<std::string> open;
  size_t i = 0;
  if (doc.rfind("<?xml", 0) == 0) i = doc.find("?>") + 2;
  while ((i = doc.find_first_of("<&", i)) != std::string::npos) {
    if (doc[i] == '&') {
      size_t semi = doc.find(';', i);
      std::string name = semi == std::string::npos ? "" : doc.substr(i + 1, semi - i - 1);
      if (name != "amp" && name != "lt" && name != "gt" && name != "quot" && name != "apos")
        return "a bare '&' at offset " + std::to_string(i);
      i = semi;
      continue;
    }
    size_t end = i + 1;
    char quote = 0;
    for (; end < doc.size() && (quote || doc[end] != '>'); ++end) {
      if (doc[end] == '<' && !quote) return "a '<' inside a tag at offset " + std::to_string(end);
      if (doc[end] == '"' || doc[end] == '\'') quote = quote == doc[end] ? 0 : quote ? quote : doc[end];
    }
    if (end >= doc.size()) return "an unterminated tag at offset " + std::to_string(i);
    std::string tag = doc.substr(i + 1, end - i - 1);
    bool closing = !tag.empty() && tag[0] == '/';
    bool self_closing = !tag.empty() && tag.back() == '/';
    std::string name = tag.substr(closing ? 1 : 0, tag.find_first_of(" /\n", 1) - (closing ? 1 : 0));
    if (closing) {
      if (open.empty() || open.back() != name)
        return "</" + name + "> closes " + (open.empty() ? "nothing" : open.back());
      open.pop_back();
    } else if (!self_closing) {
      open.push_back(name);
    }
    i = end + 1;
  }
  return open.empty() ? "" : "<" + open.back() + "> is never closed";
}

// Checks with a real XML parser when python3 is present, visibly skipped when not.
void check_parses(const std::string& doc) {
  if (std::system("command -v python3 >/dev/null 2>&1") != 0) {
    MESSAGE("SKIPPED: no python3 for an XML parser check; the built-in tag check still ran");
    return;
  }
  TempDir dir;
  std::string path = dir.file("doc.svg");
  std::ofstream(path) << doc;
  std::string cmd = "python3 -c 'import sys, xml.dom.minidom; xml.dom.minidom.parse(sys.argv[1])' " + path;
  CHECK_MESSAGE(std::system(cmd.c_str()) == 0, "python3's XML parser rejects the document");
}

size_t count(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t i = s.find(what); i != std::string::npos; i = s.find(what, i + 1)) ++n;
  return n;
}

// Each "x,y" of each polyline's points attribute, in order.
std::vector<std::vector<std::pair<double, double>>> polylines(const std::string& doc) {
  std::vector<std::vector<std::pair<double, double>>> out;
  for (size_t i = doc.find("points=\""); i != std::string::npos; i = doc.find("points=\"", i + 1)) {
    std::istringstream in(doc.substr(i + 8, doc.find('"', i + 8) - i - 8));
    out.emplace_back();
    double x, y;
    char comma;
    while (in >> x >> comma >> y) out.back().emplace_back(x, y);
  }
  return out;
}

CurveChart loss_and_rmse() {
  CurveChart c;
  c.title = "MF on ml-100k";
  c.left_label = "train loss";
  c.right_label = "test RMSE";
  c.series.push_back({"train loss", {{1, 0.9}, {2, 0.6}, {3, 0.45}, {4, 0.4}}, CurveAxis::left});
  c.series.push_back({"test RMSE", {{1, 1.05}, {2, 0.97}, {3, 0.94}, {4, 0.935}}, CurveAxis::right});
  return c;
}

void check_well_formed(const std::string& doc) {
  CHECK_MESSAGE(xml_problem(doc) == "", xml_problem(doc));
  check_parses(doc);
}

}  // namespace

TEST_CASE("curve svg: nice ticks step by 1, 2 or 5 x 10^k and cover the range") {
  auto t = train::nice_ticks(0.83, 0.97);
  CHECK(t.step == doctest::Approx(0.05));
  CHECK(t.lo == doctest::Approx(0.8));
  CHECK(t.hi == doctest::Approx(1.0));
  CHECK(t.values.size() == 5);
  t = train::nice_ticks(0, 1);
  CHECK(t.step == doctest::Approx(0.2));
  CHECK(t.values.size() == 6);
  t = train::nice_ticks(1, 10, 8, /*integer=*/true);
  CHECK(t.step == 2);
  CHECK(t.values.front() == 0);
  CHECK(t.values.back() == 10);
  t = train::nice_ticks(1, 3, 8, /*integer=*/true);  // no half epochs
  CHECK(t.step == 1);
  CHECK(t.values == std::vector<double>{1, 2, 3});
  t = train::nice_ticks(-120, 3400);
  CHECK(t.step == 1000);
  CHECK(t.lo == -1000);
  for (double v : train::nice_ticks(0.1, 0.7).values)  // multiples, not a drifting sum
    CHECK(train::tick_label(v, 0.1).size() == 3);
  // A constant series widens around its value instead of dividing by zero.
  t = train::nice_ticks(0.5, 0.5);
  CHECK(t.lo < 0.5);
  CHECK(t.hi > 0.5);
  CHECK(std::isfinite(t.step));
  t = train::nice_ticks(0, 0);
  CHECK(t.lo == -1);
  CHECK(t.hi == 1);
  CHECK(testing::error_of([] { train::nice_ticks(kNaN, 1); }).find("not a finite") != std::string::npos);
}

TEST_CASE("curve svg: tick labels have the decimals their step needs") {
  CHECK(train::tick_label(0.25, 0.05) == "0.25");
  CHECK(train::tick_label(2, 1) == "2");
  CHECK(train::tick_label(3 * 0.1, 0.1) == "0.3");
  CHECK(train::tick_label(-1e-17, 0.1) == "0.0");
  CHECK(train::tick_label(2500000, 500000) == "2.5e+06");
}

TEST_CASE("curve svg: escaping for XML") {
  CHECK(train::xml_escape("a<b & \"c\" 'd'>") == "a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;");
  CHECK(train::xml_escape(std::string("bell\x07")) == "bell ");
}

TEST_CASE("curve svg: two axes, a legend, one polyline per series, finite numbers") {
  std::string doc = train::curve_svg(loss_and_rmse());
  check_well_formed(doc);
  CHECK(doc.find("<svg xmlns=\"http://www.w3.org/2000/svg\"") != std::string::npos);
  CHECK(doc.find(">MF on ml-100k</text>") != std::string::npos);
  CHECK(doc.find(">train loss</text>") != std::string::npos);         // legend and left label
  CHECK(doc.find(">test RMSE (right)</text>") != std::string::npos);  // legend
  CHECK(doc.find(">test RMSE</text>") != std::string::npos);          // right axis label
  CHECK(doc.find(">epoch</text>") != std::string::npos);
  CHECK(count(doc, "stroke-dasharray") == 2);  // the right series' line and legend sample
  CHECK(doc.find("nan") == std::string::npos);
  CHECK(doc.find("inf") == std::string::npos);
  auto lines = polylines(doc);
  REQUIRE(lines.size() == 2);
  for (const auto& line : lines) {
    REQUIRE(line.size() == 4);
    for (auto [x, y] : line) {
      CHECK((std::isfinite(x) && x >= 0 && x <= 720));
      CHECK((std::isfinite(y) && y >= 0 && y <= 420));
    }
    CHECK(line.front().first < line.back().first);    // epochs go right
    CHECK(line.front().second < line.back().second);  // a falling value goes down the page
  }
  // Each axis has its own scale: both curves span most of the plot's height.
  for (const auto& line : lines) CHECK(line.back().second - line.front().second > 100);
  // Tick labels of both axes: the loss from 0.4 to 0.9 and the RMSE from 0.93 to 1.05.
  CHECK(doc.find(">0.9</text>") != std::string::npos);
  CHECK(doc.find(">1.05</text>") != std::string::npos);
}

TEST_CASE("curve svg: NaN is a gap, a lone point a marker, an empty or constant series is fine") {
  CurveChart c;
  c.title = "edges";
  c.series.push_back({"gappy", {{1, 1}, {2, 2}, {3, kNaN}, {4, 3}, {5, 4}}});
  c.series.push_back({"lone", {{1, 2}, {2, kNaN}, {3, 2.5}, {4, 2.25}}});
  c.series.push_back({"empty", {}});
  c.series.push_back({"flat", {{1, 0.5}, {5, 0.5}}, CurveAxis::right});
  std::string doc = train::curve_svg(c);
  check_well_formed(doc);
  CHECK(doc.find("nan") == std::string::npos);
  auto lines = polylines(doc);
  // gappy: two runs; lone: a marker and one run; empty: nothing; flat: one run.
  REQUIRE(lines.size() == 4);
  CHECK(lines[0].size() == 2);
  CHECK(lines[1].size() == 2);
  CHECK(lines[2].size() == 2);
  CHECK(count(doc, "<circle") == 1);
  REQUIRE(lines[3].size() == 2);
  CHECK(lines[3][0].second == lines[3][1].second);
  CHECK(std::isfinite(lines[3][0].second));
  CHECK(doc.find(">empty</text>") != std::string::npos);

  CurveChart single;
  single.series.push_back({"one epoch", {{1, 0.7}}});
  doc = train::curve_svg(single);
  check_well_formed(doc);
  CHECK(polylines(doc).empty());
  CHECK(count(doc, "<circle") == 1);

  CurveChart nothing;
  doc = train::curve_svg(nothing);
  check_well_formed(doc);
  CHECK(polylines(doc).empty());
  CHECK(count(doc, "<circle") == 0);

  CurveChart crowded;  // so many legend rows that no plot would be left
  for (int i = 0; i < 60; ++i) crowded.series.push_back({"a rather long series name " + std::to_string(i), {{1, 1}}});
  CHECK(testing::error_of([&] { train::curve_svg(crowded); }).find("no room for the plot") != std::string::npos);

  CurveChart all_nan;
  all_nan.series.push_back({"diverged", {{1, kNaN}, {2, kNaN}}});
  CHECK(polylines(train::curve_svg(all_nan)).empty());
}

TEST_CASE("curve svg: a learning curve from the epochs' records") {
  std::vector<train::LoggedEpoch> epochs = {{1, 0.9, {{"rmse", 1.1}, {"mae", 0.9}}, 1},
                                            {2, 0.7, {}, 1},  // not evaluated this epoch
                                            {3, 0.6, {{"rmse", 0.98}}, 1},
                                            {4, 0.5, {{"rmse", 0.95}}, 1}};
  CurveChart c = train::learning_curve("NeuMF", epochs, "rmse");
  REQUIRE(c.series.size() == 2);
  CHECK(c.series[0].axis == CurveAxis::left);
  CHECK(c.series[0].points.size() == 4);
  CHECK(c.series[1].axis == CurveAxis::right);
  CHECK(c.series[1].name == "test rmse");
  CHECK(std::isnan(c.series[1].points[1].second));
  CHECK(c.series[1].points[3] == std::pair<double, double>(4, 0.95));
  std::string doc = train::curve_svg(c);
  check_well_formed(doc);
  CHECK(polylines(doc).size() == 2);  // the loss, and the metric's epochs 3-4 (epoch 1 is a marker)
  CHECK(count(doc, "<circle") == 1);
  std::string err = testing::error_of([&] { train::learning_curve("NeuMF", epochs, "auc"); });
  CHECK(err.find("\"auc\"") != std::string::npos);
  CHECK(err.find("rmse") != std::string::npos);
  CHECK(err.find("mae") != std::string::npos);
  CHECK(train::learning_curve("empty", {}, "rmse").series.size() == 2);
}

TEST_CASE("curve svg: text is escaped in the document") {
  CurveChart c = loss_and_rmse();
  c.title = "A<B & \"C\"";
  c.series[0].name = "loss <train>";
  std::string doc = train::curve_svg(c);
  check_well_formed(doc);
  CHECK(doc.find("A&lt;B &amp; &quot;C&quot;") != std::string::npos);
  CHECK(doc.find("loss &lt;train&gt;") != std::string::npos);
  CHECK(doc.find("A<B") == std::string::npos);
}

TEST_CASE("curve svg: the file is written atomically") {
  TempDir dir;
  std::string path = dir.file("curves.svg");
  CurveChart c = loss_and_rmse();
  train::write_curve_svg(path, c);
  CHECK(read_text(path) == train::curve_svg(c));
  c.title = "second run";
  train::write_curve_svg(path, c);
  CHECK(read_text(path).find(">second run</text>") != std::string::npos);
  auto only_target = [&] {
    for (const auto& e : fs::directory_iterator(dir.path))
      if (e.path().filename().string().find(".tmp.") != std::string::npos) return false;
    return true;
  };
  CHECK(only_target());

  // A missing folder: an error naming the path.
  std::string missing = dir.file("absent/curves.svg");
  std::string err = testing::error_of([&] { train::write_curve_svg(missing, c); });
  CHECK(err.find(missing) != std::string::npos);

  // A rename that fails (the target is a folder): the temp file is removed.
  fs::create_directory(dir.path / "taken.svg");
  err = testing::error_of([&] { train::write_curve_svg(dir.file("taken.svg"), c); });
  CHECK(err.find(dir.file("taken.svg")) != std::string::npos);
  CHECK(fs::is_directory(dir.path / "taken.svg"));
  CHECK(only_target());

  // A folder that is not writable keeps the old file.
  std::string before = read_text(path);
  fs::permissions(dir.path, fs::perms::owner_read | fs::perms::owner_exec);
  bool writable = ::access(dir.path.c_str(), W_OK) == 0;  // root writes anyway
  if (writable) {
    MESSAGE("SKIPPED: running as a user who can write to a read-only folder (root); that case is not checked");
  } else {
    c.title = "third run";
    err = testing::error_of([&] { train::write_curve_svg(path, c); });
    CHECK(err.find(path) != std::string::npos);
    CHECK(read_text(path) == before);
  }
  fs::permissions(dir.path, fs::perms::owner_all);
  CHECK(only_target());
}
