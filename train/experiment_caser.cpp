#include "train/experiment_caser.h"

#include <cstdio>

#include "data/ratings_source.h"
#include "data/split.h"
#include "models/caser.h"
#include "nn/serialize.h"
#include "train/experiment_ranking.h"

namespace curec::train {

RunResult run_caser(const RunOptions& o) {
  require_split(o, "caser", "seq");
  data::RatingsSource src = data::load_ratings_source(o.data, o.seed, data::Synthetic::sequences);
  data::Split split = data::split_seq_aware(src.data.implicit());

  models::CaserConfig mc;
  mc.num_users = src.data.num_users;
  mc.num_items = src.data.num_items;
  mc.factors = o.factors > 0 ? o.factors : 10;
  Generator gen(o.seed);
  auto net = std::make_shared<models::Caser>(mc, gen);

  RankingTrainConfig tc = ranking_config(o, 8, 4096, 0.04f);
  if (o.verbose)
    std::printf("caser: %s, %zu train / %zu test interactions (sequence-aware), %d users, %d items, L = %lld, "
                "%lld factors, %s\n",
                src.description.c_str(), split.train.size(), split.test.size(), src.data.num_users,
                src.data.num_items, static_cast<long long>(mc.L), static_cast<long long>(mc.factors),
                o.device.str().c_str());
  RankingTrainResult r = train_caser(*net, split.train, split.test, tc, [&](const RankingEpochReport& e) {
    if (o.verbose) print_ranking_epoch(e);
  });

  RunResult out = ranking_result("caser", r, src.description,
                                 "all items outside the user's training set, given the last 5 training items");
  out.trained = net;
  if (!o.save.empty()) {
    nn::save_state(o.save, net->state_dict(),
                   {{"model", "caser"},
                    {"num_users", std::to_string(mc.num_users)},
                    {"num_items", std::to_string(mc.num_items)},
                    {"factors", std::to_string(mc.factors)},
                    {"L", std::to_string(mc.L)}});
    if (o.verbose) std::printf("saved %s\n", o.save.c_str());
  }
  return out;
}

}  // namespace curec::train
