#include <cstdio>

#include "app/flags.h"
#include "app/ratings_source.h"
#include "app/recipes.h"
#include "app/report.h"
#include "app/saved_meta.h"
#include "data/paths.h"
#include "data/sequence_split.h"
#include "data/user_sequences.h"

namespace curec::app {

SasrecRecipe::SasrecRecipe() {
  train.epochs = 200;
  train.batch_size = 128;
  train.eval_every = 20;
  train.optimizer = nn::AdamOptions{.lr = 0.001f, .beta2 = 0.98f};
  // The paper drops nothing from the last batch: every user's sequence counts in an epoch.
  train.last_batch = data::LastBatch::rollover;
}

void SasrecRecipe::bind(Flags& f) {
  f.trainer(train);
  f.positive("--maxlen", model.maxlen, "Input length T: each user's last T items, left-padded");
  f.positive("--hidden", model.hidden, "Width d of the item and position embeddings and of every block");
  f.positive("--blocks", model.blocks, "Self-attention blocks");
  // After --hidden (CLI11 stores options in the order they were added), so its value is known.
  int64_t* hidden = &model.hidden;
  f.positive("--heads", model.heads, "Attention heads; must divide --hidden")
      ->check(CLI::Validator(
          [hidden](const std::string& v) -> std::string {
            try {
              const long long h = std::stoll(v);
              if (h > 0 && *hidden % h == 0) return {};
            } catch (const std::exception&) {
            }
            return "must divide --hidden " + std::to_string(*hidden) + ", got '" + v + "'";
          },
          "DIVIDES --hidden"));
  f.remember(f.command()->add_option("--dropout", model.dropout, "Dropout probability, in [0, 1)")
                 ->check(CLI::Validator(
                     [](const std::string& v) -> std::string {
                       try {
                         size_t used = 0;
                         const float p = std::stof(v, &used);
                         if (used == v.size() && p >= 0.0f && p < 1.0f) return {};
                       } catch (const std::exception&) {
                       }
                       return "must be in [0, 1), got '" + v + "'";
                     },
                     "[0, 1)"))
                 ->capture_default_str());
  f.count("--patience", patience, "Stop after this many validations (every --eval-every epochs) without a gain; 0: never");
}

void SasrecRecipe::for_reproduce(RunSettings& s) {
  // The target is stated for MovieLens-1M's first 3k users (shared/anchors/pytorch_sasrec.py's run).
  if (s.data.empty()) s.data = data::default_data_dir() + "/ml-1m-3k";
}

RunResult SasrecRecipe::run(const RunSettings& s) {
  RatingsSource src = load_ratings_source(s.data_spec(), s.seed, Synthetic::sequences);
  const data::SequenceSplit split = data::split_last_two(data::user_sequences(src.data));
  train::TrainerConfig tc = train;
  take_run_settings(tc, s);
  tc.early_stop = train::EarlyStopping{.metric = "ndcg_at_10", .patience = patience, .every = std::max(1, tc.eval_every)};
  train::SequenceOptions so = sequence;
  so.seed = s.seed;
  models::SASRecConfig mc = model;
  mc.num_items = split.num_items();
  Generator gen(s.seed);
  auto net = std::make_shared<models::SASRec>(mc, gen);
  if (s.verbose)
    std::printf("sasrec: %s, %d users (%lld evaluated), %d items, maxlen %lld, d = %lld, %lld blocks, %lld heads, "
                "dropout %.2f, %s\n",
                src.description.c_str(), split.num_users(), static_cast<long long>(split.evaluated_users()),
                split.num_items(), static_cast<long long>(mc.maxlen), static_cast<long long>(mc.hidden),
                static_cast<long long>(mc.blocks), static_cast<long long>(mc.heads), mc.dropout, tc.device.str().c_str());
  train::SequenceTask task(*net, split, so);
  const train::TrainResult r = train::Trainer(task, tc, run_hooks(s)).fit();
  RunResult out = run_result(name(), r, src.description,
                             "per user: last item test, second-last validation, the rest training");
  out.metrics["valid_ndcg_at_10"] = r.best_validation().at("ndcg_at_10");
  out.metrics["best_epoch"] = r.best_epoch;
  out.info["ranking"] = "the test item among 100 sampled unseen items (hr/ndcg) and among all unseen items (full_)";
  out.trained = net;
  std::map<std::string, std::string> meta = data_meta(src, s, "last_two");
  meta["model"] = name();
  meta["num_users"] = std::to_string(split.num_users());
  meta["num_items"] = std::to_string(mc.num_items);
  for (auto [key, v] : {std::pair{"maxlen", mc.maxlen}, {"hidden", mc.hidden}, {"blocks", mc.blocks}, {"heads", mc.heads}})
    meta[key] = std::to_string(v);
  save_if_asked(s, *net, meta);
  return out;
}

}  // namespace curec::app
