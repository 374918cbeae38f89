#include "train/experiment_als.h"

#include <cstdio>

#include "data/ratings_source.h"
#include "data/split_spec.h"
#include "models/als.h"

namespace curec::train {

RunResult run_als(const RunOptions& o) {
  data::RatingsSource src = data::load_ratings_source(o.data, o.seed);
  data::NamedSplit named = data::split_by_spec(src, o.split, o.seed);
  const data::Split& split = named.split;
  models::ALSConfig c;
  if (o.factors > 0) c.factors = o.factors;
  if (o.epochs > 0) c.sweeps = o.epochs;
  if (o.wd > 0) c.lambda = static_cast<float>(o.wd);
  c.seed = o.seed;
  if (o.verbose)
    std::printf("als: %s, %s: %zu train / %zu test ratings, %lld factors, lambda %g, %s\n", src.description.c_str(), named.description.c_str(),
                split.train.size(), split.test.size(), static_cast<long long>(c.factors), c.lambda,
                o.device.str().c_str());
  auto model = std::make_shared<models::ALS>(src.data.num_users, src.data.num_items, c, o.device);
  models::ALSResult r = models::train_als(split.train, split.test, c, o.device, [&](const models::ALSSweep& s, const models::ALS&) {
    if (o.verbose)
      std::printf("sweep %d, train RMSE %.3f, test RMSE %.3f (%.2f s)\n", s.sweep, s.train_rmse, s.test_rmse, s.seconds);
  }, model.get());
  RunResult out;
  out.model = "als";
  out.epochs = c.sweeps;
  out.metrics["train_rmse"] = r.history.back().train_rmse;
  out.metrics["test_rmse"] = r.history.back().test_rmse;
  for (const auto& s : r.history) out.train_seconds += s.seconds;
  out.examples_per_sec = out.train_seconds > 0 ? split.train.size() * c.sweeps / out.train_seconds : 0;
  out.info["data"] = src.description;
  out.info["split"] = named.description;
  return out;
}

}  // namespace curec::train
