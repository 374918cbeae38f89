#include "train/experiment_autorec.h"

#include <algorithm>
#include <cstdio>

#include "data/ratings_source.h"
#include "data/split_spec.h"
#include "models/autorec.h"
#include "nn/serialize.h"
#include "train/autorec_trainer.h"
#include "train/experiment_rating.h"

namespace curec::train {

RunResult run_autorec(const RunOptions& o) {
  data::RatingsSource src = data::load_ratings_source(o.data, o.seed);
  data::NamedSplit named = data::split_by_spec(src, o.split, o.seed);
  const data::Split& split = named.split;

  const models::AutoRecKind kind = o.variant.empty() ? models::AutoRecKind::item_based
                                                      : models::parse_autorec_kind(o.variant);
  const int64_t hidden = o.factors > 0 ? o.factors : 500;
  models::AutoRecConfig mc;
  if (kind == models::AutoRecKind::item_based) {
    mc.num_inputs = src.data.num_users;  // item-based: a row is an item, its inputs are the users
    mc.hidden = hidden;
  } else {
    double sum = 0;  // the centre of a user without training ratings
    for (float r : split.train.rating) sum += r;
    mc = models::AutoRecConfig::user_based(src.data.num_items,
                                           static_cast<float>(sum / std::max<size_t>(1, split.train.size())), hidden);
  }
  mc.seed = o.seed;
  auto net = std::make_shared<models::AutoRec>(mc);

  AutoRecTrainConfig tc;
  tc.epochs = o.epochs > 0 ? o.epochs : 25;
  tc.batch_size = o.batch_size > 0 ? o.batch_size : 256;
  if (o.lr > 0) nn::learning_rate(tc.optimizer) = static_cast<float>(o.lr);
  if (o.wd >= 0) nn::weight_decay(tc.optimizer) = static_cast<float>(o.wd);
  tc.seed = o.seed;
  tc.device = o.device;
  if (o.verbose)
    std::printf("autorec (%s-based): %s, %s: %zu train / %zu test ratings, %d users x %d items, %lld hidden, %s\n",
                models::autorec_kind_name(kind).c_str(), src.description.c_str(), named.description.c_str(),
                split.train.size(), split.test.size(), src.data.num_users, src.data.num_items,
                static_cast<long long>(mc.hidden), o.device.str().c_str());
  RatingTrainResult r = train_autorec(*net, split.train, split.test, tc, [&](const EpochReport& e) {
    if (o.verbose) print_rating_epoch(e);
  });

  RunResult out = rating_result("autorec", r, src.description, named.description);
  out.info["variant"] = models::autorec_kind_name(kind) + "-based";
  out.info["examples"] = kind == models::AutoRecKind::item_based ? "item rows" : "user rows";
  out.trained = net;
  if (!o.save.empty()) {
    std::map<std::string, std::string> meta = {{"model", "autorec"},
                                               {"kind", models::autorec_kind_name(mc.kind)},
                                               {"num_inputs", std::to_string(mc.num_inputs)},
                                               {"hidden", std::to_string(mc.hidden)}};
    nn::save_state(o.save, net->state_dict(), meta);
    if (o.verbose) std::printf("saved %s\n", o.save.c_str());
  }
  return out;
}

}  // namespace curec::train
