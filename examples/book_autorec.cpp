// D2L §15.4 "AutoRec: Rating Prediction with Autoencoders", as a curec program: item-based
// AutoRec on MovieLens-100K, random 90/10 split, 500 sigmoid hidden units, dropout 0.05,
// Adam (lr 0.002, wd 1e-5), 25 epochs of 256 item rows, masked L2 loss.
//   book_autorec [cpu|cuda[:N]] [data dir]
#include <cstdio>

#include "app/recipes.h"

using namespace curec;

int main(int argc, char** argv) try {
  app::RunSettings opt;
  opt.device = Device::parse(argc > 1 ? argv[1] : "cpu");
  if (argc > 2) opt.data = argv[2];
  app::RunResult r = app::AutoRecRecipe().run(opt);
  std::printf("train loss %.3f, test RMSE %.3f\n", r.metrics["train_loss"], r.metrics["test_rmse"]);
  std::printf("%.1f examples/sec on %s\n", r.examples_per_sec, opt.device.str().c_str());
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "book_autorec: %s\n", e.what());
  return 1;
}
