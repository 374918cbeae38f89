// The course notes' neural rating models on MovieLens-100K (random 90/10 split): the deep
// rating network (user and item embeddings -> Dense 400 -> ReLU -> 1, offsets from the global
// mean) and the residual network (MF branch + that MLP), trained with SGD + momentum 0.9,
// each against the global-mean baseline.
//   book_deep_rating [cpu|cuda[:N]] [data dir]
#include <cstdio>

#include "app/recipes.h"

using namespace curec;

int main(int argc, char** argv) try {
  app::RunSettings opt;
  opt.device = Device::parse(argc > 1 ? argv[1] : "cpu");
  if (argc > 2) opt.data = argv[2];
  for (bool residual : {false, true}) {
    app::RunResult r = app::RatingNetRecipe(residual).run(opt);
    std::printf("%s: train loss %.3f, test RMSE %.3f (global mean %.3f)\n", r.model.c_str(),
                r.metrics["train_loss"], r.metrics["test_rmse"], r.metrics["global_mean_rmse"]);
    std::printf("%.1f examples/sec on %s\n\n", r.examples_per_sec, opt.device.str().c_str());
  }
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "book_deep_rating: %s\n", e.what());
  return 1;
}
