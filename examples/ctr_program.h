#pragma once
// The body the CTR book programs (§15.9 FM, §15.10 DeepFM) share:
//   PROGRAM [cpu|cuda[:N]] [data: synthetic (default), criteo, avazu, a file or the book's ctr folder] [--early-stop]
#include <cstdio>
#include <cstring>

#include "app/recipes.h"

namespace curec::examples {

inline int run_ctr_program(const char* program, bool deep, int argc, char** argv) try {
  app::RunSettings opt;
  app::CtrRecipe recipe(deep);
  int positional = 0;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--early-stop") == 0) recipe.early_stop = true;
    else if (positional++ == 0) opt.device = Device::parse(argv[i]);
    else opt.data = argv[i];
  }
  app::RunResult r = recipe.run(opt);
  std::printf("loss %.3f, test acc %.3f, AUC %.3f, logloss %.3f\n", r.metrics["train_loss"], r.metrics["test_acc"],
              r.metrics["auc"], r.metrics["logloss"]);
  std::printf("%.1f examples/sec on %s\n", r.examples_per_sec, opt.device.str().c_str());
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "%s: %s\n", program, e.what());
  return 1;
}

}  // namespace curec::examples
