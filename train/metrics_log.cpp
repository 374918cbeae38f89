#include "train/metrics_log.h"

#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/error.h"

namespace curec::train {
namespace {

using Json = nlohmann::ordered_json;  // keeps epoch first and seconds last, as a reader expects

bool is_reserved(const std::string& name) { return name == "epoch" || name == "train_loss" || name == "seconds"; }

Json number_or_null(double v) { return std::isfinite(v) ? Json(v) : Json(nullptr); }

double number_from(const Json& v, const std::string& key, const std::string& where) {
  if (v.is_null()) return std::numeric_limits<double>::quiet_NaN();
  CUREC_CHECK(v.is_number(), where, ": \"", key, "\" is ", v.dump(), "; expected a number or null");
  return v.get<double>();
}

}  // namespace

MetricsLog::MetricsLog(const std::string& path, bool append) : path_(path) {
  namespace fs = std::filesystem;
  CUREC_CHECK(!path.empty(), "metrics log: the path is empty; pass a file name");
  fs::path folder = fs::path(path).parent_path();
  std::error_code ec;
  CUREC_CHECK(folder.empty() || fs::is_directory(folder, ec), "metrics log ", path, ": the folder ", folder.string(),
              " does not exist; create it first or choose another path");
  file_ = std::fopen(path.c_str(), append ? "a" : "w");
  CUREC_CHECK(file_, "metrics log ", path, ": cannot open for writing: ", std::strerror(errno));
}

MetricsLog::~MetricsLog() {
  if (file_) std::fclose(file_);
}

void MetricsLog::write(const LoggedEpoch& record) {
  Json line;
  line["epoch"] = record.epoch;
  line["train_loss"] = number_or_null(record.train_loss);
  for (const auto& [name, value] : record.metrics) {
    CUREC_CHECK(!is_reserved(name) && !line.contains(name), "metrics log ", path_, ": metric name \"", name,
                "\" is reserved or repeated; give each metric its own name");
    line[name] = number_or_null(value);
  }
  line["seconds"] = number_or_null(record.seconds);
  std::string text = line.dump() + "\n";
  bool ok = std::fwrite(text.data(), 1, text.size(), file_) == text.size();
  ok = std::fflush(file_) == 0 && ok;
  CUREC_CHECK(ok, "metrics log ", path_, ": writing epoch ", record.epoch, " failed: ", std::strerror(errno));
}

std::vector<LoggedEpoch> read_metrics_log(const std::string& path) {
  std::ifstream in(path);
  CUREC_CHECK(in, "read_metrics_log: cannot open ", path, ": ", std::strerror(errno));
  std::vector<LoggedEpoch> out;
  std::string text;
  for (int64_t number = 1; std::getline(in, text); ++number) {
    if (text.empty()) continue;
    std::string where = path + " line " + std::to_string(number);
    Json line = Json::parse(text, nullptr, /*allow_exceptions=*/false);
    CUREC_CHECK(line.is_object(), "read_metrics_log: ", where, " is not a JSON object: ", text.substr(0, 80));
    CUREC_CHECK(line.contains("epoch") && line["epoch"].is_number_integer(), "read_metrics_log: ", where,
                " has no integer \"epoch\"");
    LoggedEpoch r;
    r.epoch = line["epoch"].get<int64_t>();
    for (const auto& [key, value] : line.items()) {
      if (key == "epoch") continue;
      double v = number_from(value, key, where);
      if (key == "train_loss")
        r.train_loss = v;
      else if (key == "seconds")
        r.seconds = v;
      else
        r.metrics.emplace_back(key, v);
    }
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace curec::train
