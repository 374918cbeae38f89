#include "train/experiment_deep_rating.h"

#include <cmath>
#include <cstdio>

#include "data/ratings_source.h"
#include "data/split_spec.h"
#include "models/deep_rating.h"
#include "nn/serialize.h"
#include "train/experiment_rating.h"

namespace curec::train {
namespace {
// The settings these experiments use (the course gives the architecture, not a schedule).
constexpr int64_t kFactors = 32;
constexpr int kEpochs = 10;
constexpr int64_t kBatch = 256;
constexpr float kLr = 0.05f;
constexpr float kMomentum = 0.9f;
constexpr float kWeightDecay = 1e-5f;

double mean_rating(const data::Interactions& d) {
  double s = 0;
  for (float r : d.rating) s += r;
  return d.size() ? s / d.size() : 0.0;
}

double constant_rmse(const data::Interactions& d, double value) {
  double se = 0;
  for (float r : d.rating) se += (r - value) * (r - value);
  return d.size() ? std::sqrt(se / d.size()) : 0.0;
}

template <class Net>
RunResult run_rating_net(const RunOptions& o, const char* name) {
  data::RatingsSource src = data::load_ratings_source(o.data, o.seed);
  data::NamedSplit named = data::split_by_spec(src, o.split, o.seed);
  const data::Split& split = named.split;
  double mu = mean_rating(split.train);

  models::DeepRatingConfig mc;
  mc.num_users = src.data.num_users;
  mc.num_items = src.data.num_items;
  mc.factors = o.factors > 0 ? o.factors : kFactors;
  mc.global_mean = static_cast<float>(mu);
  Generator gen(o.seed);
  auto net = std::make_shared<Net>(mc, gen);

  RatingTrainConfig tc;
  tc.epochs = o.epochs > 0 ? o.epochs : kEpochs;
  tc.batch_size = o.batch_size > 0 ? o.batch_size : kBatch;
  tc.optimizer = nn::SgdOptions{.lr = o.lr > 0 ? static_cast<float>(o.lr) : kLr,
                                .momentum = kMomentum,
                                .weight_decay = o.wd >= 0 ? static_cast<float>(o.wd) : kWeightDecay};
  tc.seed = o.seed;
  tc.device = o.device;
  double baseline = constant_rmse(split.test, mu);
  if (o.verbose)
    std::printf("%s: %s, %s: %zu train / %zu test ratings, %d users, %d items, %lld factors, hidden %lld, %s\n"
                "global mean %.3f: test RMSE %.3f\n",
                name, src.description.c_str(), named.description.c_str(), split.train.size(), split.test.size(), src.data.num_users,
                src.data.num_items, static_cast<long long>(mc.factors), static_cast<long long>(mc.hidden),
                o.device.str().c_str(), mu, baseline);
  RatingTrainResult r = train_rating_model(*net, split.train, split.test, tc, [&](const EpochReport& e) {
    if (o.verbose) print_rating_epoch(e);
  });

  RunResult out = rating_result(name, r, src.description, named.description);
  out.metrics["global_mean_rmse"] = baseline;
  out.trained = net;
  if (!o.save.empty()) {
    std::map<std::string, std::string> meta = {{"model", name},
                                               {"num_users", std::to_string(mc.num_users)},
                                               {"num_items", std::to_string(mc.num_items)},
                                               {"factors", std::to_string(mc.factors)},
                                               {"hidden", std::to_string(mc.hidden)},
                                               {"global_mean", std::to_string(mc.global_mean)}};
    nn::save_state(o.save, net->state_dict(), meta);
    if (o.verbose) std::printf("saved %s\n", o.save.c_str());
  }
  return out;
}
}  // namespace

RunResult run_deep_rating(const RunOptions& o) { return run_rating_net<models::DeepRatingNet>(o, "deep_rating"); }

RunResult run_residual_rating(const RunOptions& o) {
  return run_rating_net<models::ResidualRatingNet>(o, "residual_rating");
}

}  // namespace curec::train
