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
  ranking.hit_k = 50;  // the book's Hit@50 and NDCG@10
  ranking.ndcg_k = 10;
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
  train::TrainerConfig tc = train;
  take_run_settings(tc, s);
  train::RankingOptions ro = ranking;
  ro.loss = train::parse_ranking_loss(loss);
  ro.seed = s.seed;
  Generator gen(s.seed);
  std::map<std::string, std::string> meta = data_meta(src, s, "seq");
  meta["model"] = name();
  meta["num_users"] = std::to_string(src.data.num_users);
  meta["num_items"] = std::to_string(src.data.num_items);
  std::shared_ptr<models::RankingModel> model;
  if (caser) {
    models::CaserConfig mc = caser_model;
    mc.num_users = src.data.num_users;
    mc.num_items = src.data.num_items;
    auto m = std::make_shared<models::Caser>(mc, gen);
    model = m;
    meta["factors"] = std::to_string(mc.factors);
    meta["L"] = std::to_string(mc.L);
    if (s.verbose)
      std::printf("caser: %s, %zu train / %zu test interactions (sequence-aware), %d users, %d items, L = %lld, "
                  "%lld factors, %s loss, %s\n",
                  src.description.c_str(), split.train.size(), split.test.size(), src.data.num_users,
                  src.data.num_items, static_cast<long long>(mc.L), static_cast<long long>(mc.factors), loss.c_str(),
                  tc.device.str().c_str());
  } else {
    models::NeuMFConfig mc = neumf;
    mc.num_users = src.data.num_users;
    mc.num_items = src.data.num_items;
    auto m = std::make_shared<models::NeuMF>(mc, gen);
    model = m;
    meta["factors"] = std::to_string(mc.factors);
    if (s.verbose)
      std::printf("neumf: %s, %zu train / %zu test interactions (sequence-aware), %d users, %d items, %lld factors, "
                  "%s loss, %s\n",
                  src.description.c_str(), split.train.size(), split.test.size(), src.data.num_users,
                  src.data.num_items, static_cast<long long>(mc.factors), loss.c_str(), tc.device.str().c_str());
  }
  train::RankingTask task(*model, split.train, split.test, ro);
  RunResult out = run_result(name(), train::Trainer(task, tc, run_hooks(s)).fit(), src.description,
                             "sequence-aware (latest interaction per user held out)");
  out.info["ranking"] = caser ? "all items outside the user's training set, given the last " +
                                    std::to_string(caser_model.L) + " training items"
                              : "all items outside the user's training set";
  out.info["loss"] = loss;
  out.trained = model;
  save_if_asked(s, *model, meta);
  return out;
}

}  // namespace curec::app
