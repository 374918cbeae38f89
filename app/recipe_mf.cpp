#include <cmath>
#include <cstdio>

#include "app/flags.h"
#include "app/recipes.h"
#include "app/report.h"
#include "app/saved_meta.h"
#include "app/split_spec.h"
#include "train/tasks/rating_task.h"

namespace curec::app {

namespace {
double mean_rating(const data::Interactions& d) {
  double s = 0;
  for (float r : d.rating) s += r;
  return d.size() ? s / static_cast<double>(d.size()) : 0.0;
}

double constant_rmse(const data::Interactions& d, double value) {
  double se = 0;
  for (float r : d.rating) se += (r - value) * (r - value);
  return d.size() ? std::sqrt(se / static_cast<double>(d.size())) : 0.0;
}
}  // namespace

MfRecipe::MfRecipe() {
  // The book's train_recsys_rating settings.
  train.epochs = 20;
  train.batch_size = 512;
  train.optimizer = nn::AdamOptions{.lr = 0.002f, .weight_decay = 1e-5f};
}

void MfRecipe::bind(Flags& f) {
  f.split(split);
  f.trainer(train);
  f.positive("--factors", model.factors, "Latent factors");
  f.flag("--fused", fused, "Run each training step as one fused kernel instead of autograd");
}

RunResult MfRecipe::run(const RunSettings& s) {
  RatingsSource src = load_ratings_source(s.data_spec(), s.seed);
  NamedSplit named = split_by_spec(src, split, s.seed);
  models::MFConfig mc = model;
  mc.num_users = src.data.num_users;
  mc.num_items = src.data.num_items;
  Generator gen(s.seed);
  auto net = std::make_shared<models::MatrixFactorization>(mc, gen);
  train::TrainerConfig tc = train;
  take_run_settings(tc, s);
  if (s.verbose)
    std::printf("mf: %s, %s: %zu train / %zu test ratings, %d users, %d items, %lld factors, %s%s\n",
                src.description.c_str(), named.description.c_str(), named.split.train.size(),
                named.split.test.size(), src.data.num_users, src.data.num_items,
                static_cast<long long>(mc.factors), tc.device.str().c_str(), fused ? ", fused steps" : "");
  train::RatingTask task(*net, named.split.train, named.split.test, fused);
  RunResult out = run_result("mf", train::Trainer(task, tc, run_hooks(s)).fit(), src.description, named.description);
  out.trained = net;
  if (!s.save.empty()) {
    auto meta = data_meta(src, s, split);
    meta["model"] = "mf";
    meta["num_users"] = std::to_string(mc.num_users);
    meta["num_items"] = std::to_string(mc.num_items);
    meta["factors"] = std::to_string(mc.factors);
    save_if_asked(s, *net, meta);
  }
  return out;
}

RatingNetRecipe::RatingNetRecipe(bool residual) : residual(residual) {
  // The course gives the architecture, not a schedule: these are curec's settings.
  train.epochs = 10;
  train.batch_size = 256;
  train.optimizer = nn::SgdOptions{.lr = 0.05f, .momentum = 0.9f, .weight_decay = 1e-5f};
}

void RatingNetRecipe::bind(Flags& f) {
  f.split(split);
  f.trainer(train);
  f.positive("--factors", model.factors, "Width of each user and item embedding");
  f.positive("--hidden", model.hidden, "Hidden units of the MLP");
}

RunResult RatingNetRecipe::run(const RunSettings& s) {
  RatingsSource src = load_ratings_source(s.data_spec(), s.seed);
  NamedSplit named = split_by_spec(src, split, s.seed);
  const double mu = mean_rating(named.split.train);
  models::DeepRatingConfig mc = model;
  mc.num_users = src.data.num_users;
  mc.num_items = src.data.num_items;
  mc.global_mean = static_cast<float>(mu);
  Generator gen(s.seed);
  std::shared_ptr<models::RatingModel> net;
  if (residual)
    net = std::make_shared<models::ResidualRatingNet>(mc, gen);
  else
    net = std::make_shared<models::DeepRatingNet>(mc, gen);
  train::TrainerConfig tc = train;
  take_run_settings(tc, s);
  const double baseline = constant_rmse(named.split.test, mu);
  if (s.verbose)
    std::printf("%s: %s, %s: %zu train / %zu test ratings, %d users, %d items, %lld factors, hidden %lld, %s\n"
                "global mean %.3f: test RMSE %.3f\n",
                name().c_str(), src.description.c_str(), named.description.c_str(), named.split.train.size(),
                named.split.test.size(), src.data.num_users, src.data.num_items, static_cast<long long>(mc.factors),
                static_cast<long long>(mc.hidden), tc.device.str().c_str(), mu, baseline);
  train::RatingTask task(*net, named.split.train, named.split.test);
  RunResult out = run_result(name(), train::Trainer(task, tc, run_hooks(s)).fit(), src.description, named.description);
  out.metrics["global_mean_rmse"] = baseline;
  out.trained = net;
  if (!s.save.empty()) {
    auto meta = data_meta(src, s, split);
    meta["model"] = name();
    meta["num_users"] = std::to_string(mc.num_users);
    meta["num_items"] = std::to_string(mc.num_items);
    meta["factors"] = std::to_string(mc.factors);
    meta["hidden"] = std::to_string(mc.hidden);
    meta["global_mean"] = std::to_string(mc.global_mean);
    save_if_asked(s, *net, meta);
  }
  return out;
}

}  // namespace curec::app
