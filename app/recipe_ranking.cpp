#include <cstdio>

#include "app/flags.h"
#include "app/recipes.h"
#include "app/report.h"
#include "app/saved_meta.h"
#include "app/ratings_source.h"
#include "data/split.h"

namespace curec::app {

RankingRecipe::RankingRecipe(bool is_caser) : caser(is_caser) {
  // The book's schedules: NeuMF 10 epochs of batch 1024 at lr 0.01; Caser 8 of 4096 at 0.04.
  train.epochs = caser ? 8 : 10;
  train.batch_size = caser ? 4096 : 1024;
  train.optimizer = nn::AdamOptions{.lr = caser ? 0.04f : 0.01f, .weight_decay = 1e-5f};
}

void RankingRecipe::bind(Flags& f) {
  f.trainer(train);
  f.positive("--factors", caser ? caser_model.factors : neumf.factors, "Width of every embedding");
  f.text("--loss", loss, "bpr (the book's) or hinge")->check(CLI::IsMember({"bpr", "hinge"}));
  if (caser) f.positive("--window", caser_model.L, "Caser's L: the previous items a prediction sees");
}

RunResult RankingRecipe::run(const RunSettings& s) {
  RatingsSource src = load_ratings_source(s.data_spec(), s.seed, Synthetic::sequences);
  data::Split split = data::split_seq_aware(src.data.implicit());
  train::RankingTrainConfig tc = train;
  take_run_settings(tc, s);
  tc.loss = train::parse_ranking_loss(loss);
  Generator gen(s.seed);
  std::shared_ptr<nn::Module> net;
  std::map<std::string, std::string> meta = data_meta(src, s, "seq");
  meta["model"] = name();
  meta["num_users"] = std::to_string(src.data.num_users);
  meta["num_items"] = std::to_string(src.data.num_items);
  train::RankingTrainResult r;
  if (caser) {
    models::CaserConfig mc = caser_model;
    mc.num_users = src.data.num_users;
    mc.num_items = src.data.num_items;
    auto m = std::make_shared<models::Caser>(mc, gen);
    net = m;
    meta["factors"] = std::to_string(mc.factors);
    meta["L"] = std::to_string(mc.L);
    if (s.verbose)
      std::printf("caser: %s, %zu train / %zu test interactions (sequence-aware), %d users, %d items, L = %lld, "
                  "%lld factors, %s loss, %s\n",
                  src.description.c_str(), split.train.size(), split.test.size(), src.data.num_users,
                  src.data.num_items, static_cast<long long>(mc.L), static_cast<long long>(mc.factors), loss.c_str(),
                  tc.device.str().c_str());
    r = train::train_caser(*m, split.train, split.test, tc, run_hooks(s));
  } else {
    models::NeuMFConfig mc = neumf;
    mc.num_users = src.data.num_users;
    mc.num_items = src.data.num_items;
    auto m = std::make_shared<models::NeuMF>(mc, gen);
    net = m;
    meta["factors"] = std::to_string(mc.factors);
    if (s.verbose)
      std::printf("neumf: %s, %zu train / %zu test interactions (sequence-aware), %d users, %d items, %lld factors, "
                  "%s loss, %s\n",
                  src.description.c_str(), split.train.size(), split.test.size(), src.data.num_users,
                  src.data.num_items, static_cast<long long>(mc.factors), loss.c_str(), tc.device.str().c_str());
    r = train::train_neumf(*m, split.train, split.test, tc, run_hooks(s));
  }
  RunResult out = ranking_result(name(), r, src.description,
                                 caser ? "all items outside the user's training set, given the last " +
                                             std::to_string(caser_model.L) + " training items"
                                       : "all items outside the user's training set");
  out.info["loss"] = loss;
  out.trained = net;
  save_if_asked(s, *net, meta);
  return out;
}

}  // namespace curec::app
