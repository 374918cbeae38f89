#pragma once
// The flags every command that trains shares (--data, --format, --seed, --device, --save,
// --json, --quiet, --log, --curves), bound onto RunSettings, and the JSON line a run ends with.
#include <nlohmann/json.hpp>
#include <string>

#include "app/flags.h"
#include "app/recipe.h"

namespace curec::app {

struct RunFlags {
  RunSettings settings;
  bool json = false;   // end stdout with one JSON object
  bool quiet = false;  // no progress bar
  std::string log;     // per-epoch metrics as JSON lines
  std::string curves;  // an SVG learning curve
  bool append_log = false;  // a resumed run continues its log
};

// `device`: whether --device is offered (a recipe that runs on the CPU only does not take it).
void bind_run_flags(Flags& flags, RunFlags& run, bool device, bool save = true);

nlohmann::json result_json(const RunResult& r, const RunSettings& s);
// Prints the JSON object as the last line of stdout.
void print_json_line(const nlohmann::json& j);

}  // namespace curec::app
