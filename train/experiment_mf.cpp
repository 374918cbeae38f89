#include "train/experiment_mf.h"

#include <cstdio>
#include <sstream>

#include "data/ratings_source.h"
#include "data/split_spec.h"
#include "models/mf.h"
#include "nn/serialize.h"
#include "train/experiment_rating.h"

namespace curec::train {
namespace {
std::string join_ids(const std::vector<int64_t>& ids) {
  std::ostringstream os;
  for (size_t i = 0; i < ids.size(); ++i) os << (i ? "," : "") << ids[i];
  return os.str();
}
}  // namespace

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
  tc.lr = o.lr > 0 ? static_cast<float>(o.lr) : 0.002f;
  tc.weight_decay = o.wd >= 0 ? static_cast<float>(o.wd) : 1e-5f;
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
    std::map<std::string, std::string> meta = {{"model", "mf"},
                                               {"num_users", std::to_string(mc.num_users)},
                                               {"num_items", std::to_string(mc.num_items)},
                                               {"factors", std::to_string(mc.factors)},
                                               {"user_ids", join_ids(src.data.users->raw_ids())},
                                               {"item_ids", join_ids(src.data.items->raw_ids())},
                                               // what `curec recommend` reads to leave out rated items
                                               {"data", src.ml100k_dir.empty() ? o.data : src.ml100k_dir},
                                               {"split", o.split},  // and `curec evaluate` its test half
                                               {"seed", std::to_string(o.seed)}};
    nn::save_state(o.save, model.state_dict(), meta);
    if (o.verbose) std::printf("saved %s\n", o.save.c_str());
  }
  return out;
}

}  // namespace curec::train
