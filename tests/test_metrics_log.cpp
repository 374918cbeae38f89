#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>

#include "tests/testing.h"
#include "train/metrics_log.h"

using namespace curec;
using train::LoggedEpoch;
using train::MetricsLog;
namespace fs = std::filesystem;

namespace {

using testing::read_text;
using testing::TempDir;

LoggedEpoch record(int64_t epoch, double loss, double rmse, double mae, double seconds) {
  return LoggedEpoch{epoch, loss, {{"rmse", rmse}, {"mae", mae}}, seconds};
}

}  // namespace

TEST_CASE("metrics log: one flushed JSON line per epoch, read back as written") {
  TempDir dir;
  std::string path = dir.file("run.jsonl");
  MetricsLog log(path);
  log.write(record(1, 0.75, 1.02, 0.81, 1.5));
  log.write(record(2, 0.5, 0.95, 0.75, 1.25));
  // Still open: the lines are on disk already, as after a crash.
  std::string text = read_text(path);
  CHECK(text ==
        "{\"epoch\":1,\"train_loss\":0.75,\"rmse\":1.02,\"mae\":0.81,\"seconds\":1.5}\n"
        "{\"epoch\":2,\"train_loss\":0.5,\"rmse\":0.95,\"mae\":0.75,\"seconds\":1.25}\n");
  log.write(LoggedEpoch{3, 0.25, {}, 2.0});
  auto back = train::read_metrics_log(path);
  REQUIRE(back.size() == 3);
  CHECK(back[0].epoch == 1);
  CHECK(back[0].train_loss == 0.75);
  REQUIRE(back[0].metrics.size() == 2);
  CHECK(back[0].metrics[0].first == "rmse");
  CHECK(back[0].metrics[0].second == 1.02);
  CHECK(back[0].metrics[1].first == "mae");
  CHECK(back[1].seconds == 1.25);
  CHECK(back[2].epoch == 3);
  CHECK(back[2].metrics.empty());
}

TEST_CASE("metrics log: NaN and infinity are written as null and read back as NaN") {
  TempDir dir;
  std::string path = dir.file("diverged.jsonl");
  {
    MetricsLog log(path);
    log.write(record(4, std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity(), 0.5, 3.0));
  }
  CHECK(read_text(path) == "{\"epoch\":4,\"train_loss\":null,\"rmse\":null,\"mae\":0.5,\"seconds\":3.0}\n");
  auto back = train::read_metrics_log(path);
  REQUIRE(back.size() == 1);
  CHECK(std::isnan(back[0].train_loss));
  CHECK(std::isnan(back[0].metrics[0].second));
  CHECK(back[0].metrics[1].second == 0.5);
}

TEST_CASE("metrics log: a new log truncates, an appending one keeps the earlier epochs") {
  TempDir dir;
  std::string path = dir.file("log.jsonl");
  { MetricsLog(path).write(record(1, 1, 1, 1, 1)); }
  { MetricsLog(path, /*append=*/true).write(record(2, 1, 1, 1, 1)); }
  CHECK(train::read_metrics_log(path).size() == 2);
  { MetricsLog(path).write(record(1, 1, 1, 1, 1)); }
  CHECK(train::read_metrics_log(path).size() == 1);
}

TEST_CASE("metrics log: a missing folder, a reserved or repeated name, a bad line are clear errors") {
  TempDir dir;
  std::string missing = dir.file("no/such/folder/log.jsonl");
  std::string err = testing::error_of([&] { MetricsLog log(missing); });
  CHECK(err.find(missing) != std::string::npos);
  CHECK(err.find("does not exist") != std::string::npos);
  CHECK_FALSE(fs::exists(dir.path / "no"));

  MetricsLog log(dir.file("names.jsonl"));
  CHECK(testing::error_of([&] {
          log.write(LoggedEpoch{1, 0, {{"seconds", 1}}, 0});
        }).find("\"seconds\" is reserved") != std::string::npos);
  CHECK(testing::error_of([&] {
          log.write(LoggedEpoch{1, 0, {{"auc", 1}, {"auc", 2}}, 0});
        }).find("repeated") != std::string::npos);

  std::string bad = dir.file("bad.jsonl");
  std::ofstream(bad) << "{\"epoch\":1,\"train_loss\":0.5,\"seconds\":1}\n{\"epoch\":2,\"train_lo\n";
  err = testing::error_of([&] { train::read_metrics_log(bad); });
  CHECK(err.find(bad + " line 2") != std::string::npos);
  std::ofstream(bad) << "{\"epoch\":1,\"rmse\":\"high\"}\n";
  CHECK(testing::error_of([&] { train::read_metrics_log(bad); }).find("\"rmse\" is \"high\"") != std::string::npos);
  CHECK(testing::error_of([&] { train::read_metrics_log(dir.file("absent.jsonl")); }).find("cannot open") !=
        std::string::npos);
}
