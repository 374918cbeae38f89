// D2L §15.7 "Sequence-Aware Recommender Systems", as a curec program: MovieLens-100K as
// implicit feedback, sequence-aware split, Caser (L = 5, d = 16, d' = 4, dropout 0.05, 10
// factors) over each user's windows of 5 items and the next, BPR loss with one negative per
// window, Adam (lr 0.04, wd 1e-5), 8 epochs of batch 4096; after each epoch the test hit rate
// (Hit@50) and AUC over all unseen items.
//   book_caser [cpu|cuda[:N]] [data dir]
#include <cstdio>

#include "app/recipes.h"

using namespace curec;

int main(int argc, char** argv) try {
  app::RunSettings opt;
  opt.device = Device::parse(argc > 1 ? argv[1] : "cpu");
  if (argc > 2) opt.data = argv[2];
  app::RunResult r = app::RankingRecipe(true).run(opt);
  std::printf("train loss %.3f, test hit rate %.3f, test AUC %.3f\n", r.metrics["train_loss"],
              r.metrics["hit_at_50"], r.metrics["auc"]);
  std::printf("%.1f examples/sec on %s\n", r.examples_per_sec, opt.device.str().c_str());
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "book_caser: %s\n", e.what());
  return 1;
}
