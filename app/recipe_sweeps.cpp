// The recipes trained by sweeps instead of an optimizer: ALS and BPMF. They share the trainer's
// reporting (epoch records, logs, curves, interruption) through report_sweep.
#include <cstdio>

#include "app/flags.h"
#include "app/recipes.h"
#include "app/report.h"
#include "app/saved_meta.h"
#include "data/split_spec.h"
#include "nn/serialize.h"

namespace curec::app {

namespace {
RunResult sweep_result(const std::string& model, int sweeps, double seconds, size_t train_rows,
                       const data::RatingsSource& src, const data::NamedSplit& named) {
  RunResult out;
  out.model = model;
  out.epochs = sweeps;
  out.train_seconds = seconds;
  out.examples_per_sec = seconds > 0 ? static_cast<double>(train_rows) * sweeps / seconds : 0;
  out.info["data"] = src.description;
  out.info["split"] = named.description;
  return out;
}
// A sweep as the trainer reports an epoch; a sweep has no loss, `stand_in` is reported in its place.
train::EpochRecord sweep_record(int sweep, double stand_in, double seconds, double test_rmse) {
  train::EpochRecord e;
  e.epoch = sweep;
  e.train_loss = stand_in;
  e.seconds = seconds;
  e.evaluated = true;
  e.test["test_rmse"] = test_rmse;
  return e;
}
}  // namespace

void AlsRecipe::bind(Flags& f) {
  f.split(split);
  f.positive("--factors", model.factors, "Latent factors");
  f.positive("--sweeps", model.sweeps, "Sweeps (all users, then all items, solved exactly)");
  f.non_negative("--lambda", model.lambda, "L2 regularisation (scaled by each row's count)");
}

RunResult AlsRecipe::run(const RunSettings& s) {
  data::RatingsSource src = data::load_ratings_source(s.data_spec(), s.seed);
  data::NamedSplit named = data::split_by_spec(src, split, s.seed);
  models::ALSConfig c = model;
  c.seed = s.seed;
  if (s.verbose)
    std::printf("als: %s, %s: %zu train / %zu test ratings, %lld factors, lambda %g, %s\n", src.description.c_str(),
                named.description.c_str(), named.split.train.size(), named.split.test.size(),
                static_cast<long long>(c.factors), c.lambda, s.device.str().c_str());
  models::ALS als(src.data.num_users, src.data.num_items, c, s.device);
  models::ALSResult r = models::train_als(
      named.split.train, named.split.test, c, s.device,
      [&](const models::ALSSweep& w, const models::ALS&) {
        report_sweep(s, sweep_record(w.sweep, w.train_rmse, w.seconds, w.test_rmse));  // training RMSE as the loss
      },
      &als);
  double seconds = 0;
  for (const auto& w : r.history) seconds += w.seconds;
  RunResult out = sweep_result("als", c.sweeps, seconds, named.split.train.size(), src, named);
  out.metrics["train_rmse"] = r.history.back().train_rmse;
  out.metrics["test_rmse"] = r.history.back().test_rmse;
  if (!s.save.empty()) {
    auto meta = data_meta(src, s, split);
    meta["model"] = "als";
    meta["num_users"] = std::to_string(src.data.num_users);
    meta["num_items"] = std::to_string(src.data.num_items);
    meta["factors"] = std::to_string(c.factors);
    nn::save_state(s.save, als.state_dict(), meta);
    if (s.verbose) std::printf("saved %s\n", s.save.c_str());
  }
  return out;
}

void BpmfRecipe::bind(Flags& f) {
  f.split(split);
  f.positive("--factors", model.factors, "Latent factors");
  f.positive("--samples", model.samples, "Gibbs sweeps averaged into the posterior mean");
  f.count("--burn-in", model.burn_in, "Sweeps discarded before averaging");
}

RunResult BpmfRecipe::run(const RunSettings& s) {
  data::RatingsSource src = data::load_ratings_source(s.data_spec(), s.seed);
  data::NamedSplit named = data::split_by_spec(src, split, s.seed);
  models::BPMFConfig c = model;
  c.seed = s.seed;
  if (s.verbose)
    std::printf("bpmf: %s, %s: %zu train / %zu test ratings, %lld factors, alpha %g, %d burn-in + %d samples, cpu\n",
                src.description.c_str(), named.description.c_str(), named.split.train.size(),
                named.split.test.size(), static_cast<long long>(c.factors), c.alpha, c.burn_in, c.samples);
  models::BPMFResult r = models::train_bpmf(named.split.train, named.split.test, c, [&](const models::BPMFSweep& w) {
    // The sample's RMSE as the loss, the posterior mean's as the test metric.
    report_sweep(s, sweep_record(w.sweep, w.test_rmse_sample, w.seconds, w.test_rmse_posterior));
  });
  double seconds = 0;
  for (const auto& w : r.history) seconds += w.seconds;
  RunResult out = sweep_result("bpmf", static_cast<int>(r.history.size()), seconds, named.split.train.size(), src,
                               named);
  out.metrics["test_rmse"] = r.test_rmse;
  out.metrics["test_rmse_last_sample"] = r.history.back().test_rmse_sample;
  out.info["device"] = "cpu (BPMF has no CUDA path)";
  CUREC_CHECK(s.save.empty(), "bpmf keeps no model to save (its prediction is an average over samples); drop --save");
  return out;
}

}  // namespace curec::app
