// The course notes' Bayesian probabilistic matrix factorisation (§9) on MovieLens-100K: random
// 90/10 split (seed 0), K = 10, α = 2, Normal–Wishart hyperpriors, Gibbs sampling on the CPU;
// the prediction is the posterior mean over the samples after burn-in.
//   book_bpmf [data dir] [seed]   (data dir: the one holding ml-100k/; default: default_data_dir())
#include <cstdio>
#include <string>

#include "data/movielens.h"
#include "data/paths.h"
#include "data/split.h"
#include "models/bpmf.h"

using namespace curec;

int main(int argc, char** argv) try {
  const std::string dir = (argc > 1 ? std::string(argv[1]) : data::default_data_dir()) + "/ml-100k";
  models::BPMFConfig cfg;
  if (argc > 2) cfg.seed = std::stoull(argv[2]);
  data::Split split = data::split_random(data::read_ml100k(dir), 0.1, 0);
  std::printf("ML-100K: %zu train / %zu test ratings, %d users x %d items, on cpu\n", split.train.size(),
              split.test.size(), split.train.num_users, split.train.num_items);
  std::printf("K = %lld, alpha = %g, beta0 = %g, %d burn-in sweeps + %d samples, seed %llu\n",
              static_cast<long long>(cfg.factors), cfg.alpha, cfg.beta0, cfg.burn_in, cfg.samples,
              static_cast<unsigned long long>(cfg.seed));
  double total = 0;
  models::BPMFResult r = models::train_bpmf(split.train, split.test, cfg, [&](const models::BPMFSweep& s) {
    total += s.seconds;
    std::printf("sweep %3d%s  test RMSE: this sample %.4f  posterior mean %.4f  %.3f s\n", s.sweep,
                s.sweep <= cfg.burn_in ? " (burn-in)" : "          ", s.test_rmse_sample, s.test_rmse_posterior,
                s.seconds);
  });
  std::printf("posterior-mean test RMSE %.4f (mu = %.3f); %.2f s in sweeps\n", r.test_rmse, r.mean, total);
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "book_bpmf: %s\n", e.what());
  return 1;
}
