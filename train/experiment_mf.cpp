#include "train/experiment_mf.h"

#include <cstdio>

#include "data/ratings_source.h"
#include "data/split_spec.h"
#include "models/mf.h"
#include "nn/serialize.h"
#include "train/experiment_rating.h"
#include "train/saved_meta.h"

namespace curec::train {
RunResult run_mf(const RunOptions& o) {
  data::RatingsSource src = data::load_ratings_source(o.data, o.seed);
  data::NamedSplit named = data::split_by_spec(src, o.split, o.seed);
  const data::Split& split = named.split;

  models::MFConfig mc;
  mc.num_users = src.data.num_users;
  mc.num_items = src.data.num_items;
  mc.factors = o.factors > 0 ? o.factors : 30;
  Generator gen(o.seed);
  auto net = std::make_shared<models::MatrixFactorization>(mc, gen);
  models::MatrixFactorization& model = *net;

  RatingTrainConfig tc;
  tc.epochs = o.epochs > 0 ? o.epochs : 20;
  tc.batch_size = o.batch_size > 0 ? o.batch_size : 512;
  if (o.lr > 0) nn::learning_rate(tc.optimizer) = static_cast<float>(o.lr);
  if (o.wd >= 0) nn::weight_decay(tc.optimizer) = static_cast<float>(o.wd);
  tc.seed = o.seed;
  tc.device = o.device;
  tc.fused = o.fused;
  if (o.verbose)
    std::printf("mf: %s, %s: %zu train / %zu test ratings, %d users, %d items, %lld factors, %s%s\n",
                src.description.c_str(), named.description.c_str(), split.train.size(), split.test.size(), src.data.num_users,
                src.data.num_items, static_cast<long long>(mc.factors), o.device.str().c_str(),
                o.fused ? ", fused steps" : "");
  RatingTrainResult r = train_rating_model(model, split.train, split.test, tc, [&](const EpochReport& e) {
    if (o.verbose) print_rating_epoch(e);
  });

  RunResult out = rating_result("mf", r, src.description, named.description);
  out.trained = net;
  if (!o.save.empty()) {
    std::map<std::string, std::string> meta = data_meta(src, o, o.split);
    meta["model"] = "mf";
    meta["num_users"] = std::to_string(mc.num_users);
    meta["num_items"] = std::to_string(mc.num_items);
    meta["factors"] = std::to_string(mc.factors);
    nn::save_state(o.save, model.state_dict(), meta);
    if (o.verbose) std::printf("saved %s\n", o.save.c_str());
  }
  return out;
}

}  // namespace curec::train
