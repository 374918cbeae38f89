#include "train/experiment_neumf.h"

#include <cstdio>

#include "data/ratings_source.h"
#include "data/split.h"
#include "models/neumf.h"
#include "nn/serialize.h"
#include "train/experiment_ranking.h"
#include "train/saved_meta.h"

namespace curec::train {

RunResult run_neumf(const RunOptions& o) {
  require_split(o, "neumf", "seq");
  data::RatingsSource src = data::load_ratings_source(o.data, o.seed, data::Synthetic::sequences);
  data::Split split = data::split_seq_aware(src.data.implicit());

  models::NeuMFConfig mc;
  mc.num_users = src.data.num_users;
  mc.num_items = src.data.num_items;
  mc.factors = o.factors > 0 ? o.factors : 10;
  Generator gen(o.seed);
  auto net = std::make_shared<models::NeuMF>(mc, gen);

  RankingTrainConfig tc = ranking_config(o, 10, 1024, 0.01f);
  if (o.verbose)
    std::printf("neumf: %s, %zu train / %zu test interactions (sequence-aware), %d users, %d items, %lld factors, %s\n",
                src.description.c_str(), split.train.size(), split.test.size(), src.data.num_users,
                src.data.num_items, static_cast<long long>(mc.factors), o.device.str().c_str());
  RankingTrainResult r = train_neumf(*net, split.train, split.test, tc, [&](const RankingEpochReport& e) {
    if (o.verbose) print_ranking_epoch(e);
  });

  RunResult out = ranking_result("neumf", r, src.description, "all items outside the user's training set");
  out.trained = net;
  if (!o.save.empty()) {
    std::map<std::string, std::string> meta = data_meta(src, o, "seq");
    meta["model"] = "neumf";
    meta["num_users"] = std::to_string(mc.num_users);
    meta["num_items"] = std::to_string(mc.num_items);
    meta["factors"] = std::to_string(mc.factors);
    nn::save_state(o.save, net->state_dict(), meta);
    if (o.verbose) std::printf("saved %s\n", o.save.c_str());
  }
  return out;
}

}  // namespace curec::train
