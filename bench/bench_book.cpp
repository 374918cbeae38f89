// Training throughput of every book experiment, as JSON lines (one per experiment), to set beside
// the PyTorch reference (shared/anchors/pytorch_book.py) on the same device.
//   bench_book [--device cuda] [--only mf neumf ...] [--epochs N]
#include <CLI/CLI.hpp>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "core/allocator.h"
#include "app/flags.h"
#include "app/recipe.h"

int main(int argc, char** argv) {
  CLI::App app{"Training throughput of the book's experiments"};
  std::string device = "cpu";
  std::vector<std::string> only;
  int epochs = -1;
  app.add_option("--device", device);
  app.add_option("--only", only, "Experiments to run (default: all)");
  app.add_option("--epochs", epochs, "Epochs (default: the book's)");
  CLI11_PARSE(app, argc, argv);
  int status = 0;
  for (const curec::app::Experiment& e : curec::app::experiments()) {
    if (!only.empty() && std::find(only.begin(), only.end(), e.name) == only.end()) continue;
    try {
      curec::app::RunSettings o;
      o.device = curec::Device::parse(device);
      o.verbose = false;
      std::unique_ptr<curec::app::Recipe> recipe = e.recipe();
      if (!recipe->runs_on_cuda()) o.device = curec::Device::cpu();
      if (epochs > 0) {  // through the recipe's own --epochs (or --sweeps, --samples)
        CLI::App flags;
        curec::app::Flags f(&flags);
        recipe->bind(f);
        for (const char* name : {"--epochs", "--sweeps", "--samples"})
          if (flags.get_option_no_throw(name)) flags.parse(std::string(name) + " " + std::to_string(epochs), false);
      }
      curec::app::RunResult r = recipe->run(o);
      nlohmann::json j{{"bench", "book_train"},
                       {"experiment", e.name},
                       {"device", o.device.str()},
                       {"epochs", r.epochs},
                       {"examples_per_sec", r.examples_per_sec},
                       {"train_seconds", r.train_seconds},
                       {e.metric, r.metrics.at(e.metric)},
                       {"peak_device_bytes", curec::memory_stats(o.device).peak_bytes}};
      std::printf("%s\n", j.dump().c_str());
      std::fflush(stdout);
    } catch (const std::exception& ex) {
      std::fprintf(stderr, "bench_book: %s: %s\n", e.name.c_str(), ex.what());
      status = 1;
    }
  }
  return status;
}
