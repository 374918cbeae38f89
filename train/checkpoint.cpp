#include "train/checkpoint.h"

#include <cmath>
#include <nlohmann/json.hpp>

#include "nn/serialize.h"

namespace curec::train {

namespace {
constexpr const char* kKind = "curec-checkpoint";
constexpr const char* kVersion = "1";

// JSON has no NaN: a metric that was not computed travels as null.
nlohmann::json number(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }
double number(const nlohmann::json& j) { return j.is_null() ? std::nan("") : j.get<double>(); }

nlohmann::json metrics_json(const Metrics& m) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [k, v] : m) j[k] = number(v);
  return j;
}
Metrics metrics_of(const nlohmann::json& j) {
  Metrics m;
  for (const auto& [k, v] : j.items()) m[k] = number(v);
  return m;
}

std::string history_json(const std::vector<EpochRecord>& history) {
  nlohmann::json a = nlohmann::json::array();
  for (const EpochRecord& r : history)
    a.push_back({{"epoch", r.epoch}, {"train_loss", number(r.train_loss)}, {"seconds", r.seconds},
                 {"evaluated", r.evaluated}, {"test", metrics_json(r.test)}, {"validation", metrics_json(r.validation)}});
  return a.dump();
}
std::vector<EpochRecord> history_of(const std::string& text) {
  std::vector<EpochRecord> out;
  for (const auto& j : nlohmann::json::parse(text)) {
    EpochRecord r;
    r.epoch = j.at("epoch").get<int>();
    r.train_loss = number(j.at("train_loss"));
    r.seconds = j.at("seconds").get<double>();
    r.evaluated = j.at("evaluated").get<bool>();
    r.test = metrics_of(j.at("test"));
    r.validation = metrics_of(j.at("validation"));
    out.push_back(r);
  }
  return out;
}

// Doubles through text without losing a bit: hexadecimal floating point.
std::string exact(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%a", v);
  return buf;
}
double exact_of(const std::string& s) { return std::strtod(s.c_str(), nullptr); }

void put(nn::StateDict& out, const std::string& prefix, const nn::StateDict& d) {
  for (const auto& [k, v] : d) out[prefix + k] = v;
}
nn::StateDict take(const nn::StateDict& in, const std::string& prefix) {
  nn::StateDict out;
  for (const auto& [k, v] : in)
    if (k.compare(0, prefix.size(), prefix) == 0) out[k.substr(prefix.size())] = v;
  return out;
}
}  // namespace

std::string update_rule_of(const TrainerConfig& c) {
  return describe(c.update) + " groups=" + nn::group_rule_name(c.param_groups);
}

void write_checkpoint(const std::string& path, const Checkpoint& c) {
  nn::StateDict tensors;
  put(tensors, "model/", c.model);
  put(tensors, "optimizer/", c.optimizer);
  put(tensors, "best/", c.best);
  if (c.sampler.carried.defined()) tensors["sampler/carried"] = c.sampler.carried;
  std::map<std::string, std::string> meta = {
      {"kind", kKind},
      {"checkpoint_version", kVersion},
      {"model", c.task},
      {"epoch", std::to_string(c.epoch)},
      {"batch_size", std::to_string(c.batch_size)},
      {"seed", std::to_string(c.seed)},
      {"sampler_offset", std::to_string(c.sampler.generator_offset)},
      {"history", history_json(c.history)},
      {"best_epoch", std::to_string(c.best_epoch)},
      {"best_value", exact(c.best_value)},
      {"epochs_since_best", std::to_string(c.epochs_since_best)},
      {"first_batch_loss", exact(c.first_batch_loss)},
      {"updates", std::to_string(c.updates)},
      {"update_rule", c.update_rule},
  };
  for (const auto& [name, offset] : c.generators) meta["generator/" + name] = std::to_string(offset);
  nn::save_state(path, tensors, meta);
}

Checkpoint read_checkpoint(const std::string& path) {
  nn::LoadedState s = nn::load_state(path);
  auto field = [&](const std::string& key) -> const std::string& {
    auto it = s.meta.find(key);
    CUREC_CHECK(it != s.meta.end(), "checkpoint ", path, ": the entry '", key,
                "' is missing; the file is damaged or was written by another version of curec");
    return it->second;
  };
  CUREC_CHECK(s.meta.count("kind") && s.meta.at("kind") == kKind, "checkpoint ", path,
              ": not a training checkpoint (a saved model or another file?); pass a file the trainer wrote as its checkpoint");
  CUREC_CHECK(field("checkpoint_version") == kVersion, "checkpoint ", path, ": format version ",
              field("checkpoint_version"), " is not the ", kVersion, " this curec reads");
  Checkpoint c;
  try {
    c.task = field("model");
    c.epoch = std::stoi(field("epoch"));
    c.batch_size = std::stoll(field("batch_size"));
    c.seed = std::stoull(field("seed"));
    c.sampler.generator_offset = std::stoull(field("sampler_offset"));
    c.history = history_of(field("history"));
    c.best_epoch = std::stoi(field("best_epoch"));
    c.best_value = exact_of(field("best_value"));
    c.epochs_since_best = std::stoi(field("epochs_since_best"));
    c.first_batch_loss = exact_of(field("first_batch_loss"));
    // Written since schedules came; a file from before ran the default rule from update 0.
    if (s.meta.count("updates")) c.updates = std::stoll(field("updates"));
    c.update_rule = s.meta.count("update_rule") ? field("update_rule") : update_rule_of(TrainerConfig{});
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    CUREC_FAIL("checkpoint ", path, ": a damaged entry (", e.what(), "); write a new checkpoint");
  }
  for (const auto& [k, v] : s.meta)
    if (k.rfind("generator/", 0) == 0) c.generators[k.substr(10)] = std::stoull(v);
  c.model = take(s.tensors, "model/");
  c.optimizer = take(s.tensors, "optimizer/");
  c.best = take(s.tensors, "best/");
  if (auto it = s.tensors.find("sampler/carried"); it != s.tensors.end()) c.sampler.carried = it->second;
  CUREC_CHECK(static_cast<int>(c.history.size()) == c.epoch, "checkpoint ", path, ": ", c.history.size(),
              " epochs of history for epoch ", c.epoch, "; the file is damaged");
  return c;
}

void check_resumable(const Checkpoint& c, const std::string& path, const std::string& task, int64_t batch_size,
                     uint64_t seed, int epochs) {
  CUREC_CHECK(c.task == task, "checkpoint ", path, " was written by a '", c.task, "' run, not '", task,
              "'; resume with the model that wrote it");
  CUREC_CHECK(c.batch_size == batch_size, "checkpoint ", path, " was written with batch size ", c.batch_size,
              ", this run has ", batch_size, "; resume with the settings that wrote it");
  CUREC_CHECK(c.seed == seed, "checkpoint ", path, " was written with seed ", c.seed, ", this run has ", seed,
              "; resume with the settings that wrote it");
  const char* unit = batch_size == 0 ? " sweeps" : " epochs";
  CUREC_CHECK(c.epoch < epochs, "checkpoint ", path, " has already trained ", c.epoch, unit, ", and this run asks for ",
              epochs, "; ask for more", unit, " to continue");
}

}  // namespace curec::train
