#include <algorithm>
#include <cstdio>

#include "app/flags.h"
#include "app/recipes.h"
#include "app/report.h"
#include "app/saved_meta.h"
#include "app/split_spec.h"
#include "train/tasks/autorec_task.h"

namespace curec::app {

AutoRecRecipe::AutoRecRecipe() {
  // The book's §15.4 settings.
  train.epochs = 25;
  train.batch_size = 256;
  train.optimizer = nn::AdamOptions{.lr = 0.002f, .weight_decay = 1e-5f};
}

void AutoRecRecipe::bind(Flags& f) {
  f.split(split);
  f.trainer(train, "Rows of the rating matrix per step (items for --variant item, users for user); a value above "
                   "the number of rows takes every row");
  f.text("--variant", variant, "item (the book's item-based AutoRec) or user (the course's user-based one)")
      ->check(CLI::IsMember({"item", "user"}));
  f.positive("--hidden", hidden, "Hidden units");
}

RunResult AutoRecRecipe::run(const RunSettings& s) {
  RatingsSource src = load_ratings_source(s.data_spec(), s.seed);
  NamedSplit named = split_by_spec(src, split, s.seed);
  const data::Split& sp = named.split;
  const models::AutoRecKind kind = models::parse_autorec_kind(variant);
  models::AutoRecConfig mc;
  if (kind == models::AutoRecKind::item_based) {
    mc.num_inputs = src.data.num_users;  // item-based: a row is an item, its inputs are the users
    mc.hidden = hidden;
  } else {
    double sum = 0;  // the centre of a user without training ratings
    for (float r : sp.train.rating) sum += r;
    mc = models::AutoRecConfig::user_based(src.data.num_items,
                                           static_cast<float>(sum / std::max<size_t>(1, sp.train.size())), hidden);
  }
  mc.seed = s.seed;
  auto net = std::make_shared<models::AutoRec>(mc);
  train::AutoRecTask task(*net, sp.train, sp.test);
  train::TrainerConfig tc = train;
  take_run_settings(tc, s);
  tc.batch_size = task.batch_of(tc.batch_size);
  if (s.verbose)
    std::printf("autorec (%s-based): %s, %s: %zu train / %zu test ratings, %d users x %d items, %lld hidden, %s\n",
                variant.c_str(), src.description.c_str(), named.description.c_str(), sp.train.size(),
                sp.test.size(), src.data.num_users, src.data.num_items, static_cast<long long>(mc.hidden),
                tc.device.str().c_str());
  RunResult out = run_result("autorec", train::Trainer(task, tc, run_hooks(s)).fit(), src.description, named.description);
  out.info["variant"] = variant + "-based";
  out.info["examples"] = kind == models::AutoRecKind::item_based ? "item rows" : "user rows";
  out.trained = net;
  if (!s.save.empty()) {
    auto meta = data_meta(src, s, split);
    meta["model"] = "autorec";
    meta["kind"] = models::autorec_kind_name(mc.kind);
    meta["num_inputs"] = std::to_string(mc.num_inputs);
    meta["hidden"] = std::to_string(mc.hidden);
    meta["empty_row_mean"] = std::to_string(mc.empty_row_mean);
    save_if_asked(s, *net, meta);
  }
  return out;
}

}  // namespace curec::app
