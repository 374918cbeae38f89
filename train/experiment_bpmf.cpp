#include "train/experiment_bpmf.h"

#include <cstdio>

#include "data/ratings_source.h"
#include "data/split_spec.h"
#include "models/bpmf.h"

namespace curec::train {

RunResult run_bpmf(const RunOptions& o) {
  data::RatingsSource src = data::load_ratings_source(o.data, o.seed);
  data::NamedSplit named = data::split_by_spec(src, o.split, o.seed);
  const data::Split& split = named.split;
  models::BPMFConfig c;
  if (o.factors > 0) c.factors = o.factors;
  if (o.epochs > 0) c.samples = o.epochs;
  c.seed = o.seed;
  if (o.verbose)
    std::printf("bpmf: %s, %s: %zu train / %zu test ratings, %lld factors, alpha %g, %d burn-in + %d samples, cpu\n",
                src.description.c_str(), named.description.c_str(), split.train.size(), split.test.size(), static_cast<long long>(c.factors),
                c.alpha, c.burn_in, c.samples);
  models::BPMFResult r = models::train_bpmf(split.train, split.test, c, [&](const models::BPMFSweep& s) {
    if (o.verbose)
      std::printf("sweep %d, test RMSE sample %.3f, posterior mean %.3f (%.3f s)\n", s.sweep, s.test_rmse_sample,
                  s.test_rmse_posterior, s.seconds);
  });
  RunResult out;
  out.model = "bpmf";
  out.epochs = static_cast<int>(r.history.size());
  out.metrics["test_rmse"] = r.test_rmse;
  out.metrics["test_rmse_last_sample"] = r.history.back().test_rmse_sample;
  for (const auto& s : r.history) out.train_seconds += s.seconds;
  out.examples_per_sec = out.train_seconds > 0 ? split.train.size() * r.history.size() / out.train_seconds : 0;
  out.info["data"] = src.description;
  out.info["split"] = named.description;
  out.info["device"] = "cpu (BPMF has no CUDA path)";
  return out;
}

}  // namespace curec::train
