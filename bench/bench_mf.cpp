// MF training throughput (D2L §15.3 settings) as JSON: examples/sec on the chosen device.
//   bench_mf [--device cuda] [--epochs 20] [--batch-size 512] [--data DIR] [--no-fused]
// Fused steps (ops/mf_step.h) are the default; --no-fused measures the generic autograd path.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "core/allocator.h"
#include "app/recipes.h"

int main(int argc, char** argv) {
  CLI::App app{"MF training throughput"};
  std::string device = "cpu", data;
  int epochs = 20;
  int64_t batch = 512;
  bool fused = true;
  app.add_option("--device", device);
  app.add_option("--epochs", epochs)->check(CLI::PositiveNumber);
  app.add_option("--batch-size", batch)->check(CLI::PositiveNumber);
  app.add_option("--data", data);
  app.add_flag("--fused,!--no-fused", fused, "one fused kernel per step (default) or the autograd path");
  CLI11_PARSE(app, argc, argv);
  try {
    curec::app::RunSettings o;
    o.device = curec::Device::parse(device);
    o.data = data;
    o.verbose = false;
    curec::app::MfRecipe recipe;
    recipe.train.epochs = epochs;
    recipe.train.batch_size = batch;
    recipe.fused = fused;
    curec::app::RunResult r = recipe.run(o);
    nlohmann::json j{{"bench", "mf_train"},
                     {"device", o.device.str()},
                     {"epochs", epochs},
                     {"batch_size", batch},
                     {"fused", fused},
                     {"examples_per_sec", r.examples_per_sec},
                     {"train_seconds", r.train_seconds},
                     {"test_rmse", r.metrics["test_rmse"]},
                     {"peak_device_bytes", curec::memory_stats(o.device).peak_bytes}};
    std::printf("%s\n", j.dump().c_str());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_mf: %s\n", e.what());
    return 1;
  }
}
