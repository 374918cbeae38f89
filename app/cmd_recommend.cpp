#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <numeric>
#include <optional>

#include "data/movielens.h"
#include "app/ratings_source.h"
#include "app/commands.h"
#include "app/output_paths.h"
#include "app/run_flags.h"
#include "app/saved_model.h"

namespace curec::app {
namespace {

struct RecommendFlags {
  std::string model, data;
  int64_t user = 0;
  int top = 10;
  bool include_rated = false, json = false;
};

// Raw ids of the items `raw_user` rated in `data` (empty when the data lacks the user).
std::vector<int64_t> rated_items(const data::Interactions& data, int64_t raw_user) {
  std::vector<int64_t> out;
  std::optional<int32_t> u = data.users->find(raw_user);
  if (!u) return out;
  for (size_t r = 0; r < data.size(); ++r)
    if (data.user[r] == *u) out.push_back(data.items->raw(data.item[r]));
  return out;
}

void recommend(const RecommendFlags& f) {
  SavedModel s = load_saved_model(f.model);
  const int32_t u = s.dense_user(f.user);
  const std::string data_spec = f.data.empty() ? s.data() : f.data;
  // Items the user already rated are left out; ML-100K folders also give the titles.
  std::vector<uint8_t> skip(s.item_ids.size(), 0);
  std::vector<std::string> titles;
  if (!data_spec.empty()) {
    // The seed regenerates a synthetic training set exactly.
    RatingsSource src =
        load_ratings_source(data_spec, f.data.empty() ? s.seed() : 0,
                                  s.predicts_ratings() ? Synthetic::ratings : Synthetic::sequences);
    if (!f.include_rated)
      for (int64_t raw : rated_items(src.data, f.user)) {
        auto it = std::lower_bound(s.item_ids.begin(), s.item_ids.end(), raw);
        if (it != s.item_ids.end() && *it == raw) skip[it - s.item_ids.begin()] = 1;
      }
    if (!src.ml100k_dir.empty() && std::filesystem::exists(std::filesystem::path(src.ml100k_dir) / "u.item"))
      titles = data::read_ml100k_titles(src.ml100k_dir);
  }

  const int32_t n = static_cast<int32_t>(s.item_ids.size());
  std::vector<int32_t> items(static_cast<size_t>(n));
  std::iota(items.begin(), items.end(), 0);
  Tensor scores = s.score(Tensor::from_vector<int32_t>(std::vector<int32_t>(n, u), {n}),
                                   Tensor::from_vector<int32_t>(items, {n}));
  const float* score = scores.data<float>();
  std::vector<int32_t> ranked;
  for (int32_t i : items)
    if (!skip[i]) ranked.push_back(i);
  const size_t top = std::min(ranked.size(), static_cast<size_t>(f.top));
  std::partial_sort(ranked.begin(), ranked.begin() + top, ranked.end(), [&](int32_t a, int32_t b) {
    return score[a] != score[b] ? score[a] > score[b] : a < b;
  });
  ranked.resize(top);

  nlohmann::json list = nlohmann::json::array();
  if (!f.json) std::printf("top %zu for user %lld (%s):\n", top, static_cast<long long>(f.user), f.model.c_str());
  for (size_t k = 0; k < ranked.size(); ++k) {
    const int32_t i = ranked[k];
    const int64_t raw = s.item_ids[i];
    // u.item lists items 1..n by raw id; a model trained on a subset has fewer dense ids.
    const std::string title = raw >= 1 && raw <= static_cast<int64_t>(titles.size()) ? titles[raw - 1] : "";
    if (!f.json) std::printf("%3zu. item %-6lld %.3f  %s\n", k + 1, static_cast<long long>(raw), score[i], title.c_str());
    nlohmann::json j = {{"item", raw}, {"score", score[i]}};
    if (!title.empty()) j["title"] = title;
    list.push_back(j);
  }
  if (f.json) print_json_line({{"user", f.user}, {"model", f.model}, {"items", list}});
}

}  // namespace

void add_recommend(CLI::App& app) {
  auto* cmd = app.add_subcommand("recommend", "A user's top items by a saved model, leaving out what they rated");
  auto f = std::make_shared<RecommendFlags>();
  cmd->add_option("--model", f->model, "Model file written by `curec train MODEL --save FILE`")
      ->required()
      ->check(non_empty_path());
  cmd->add_option("--user", f->user, "User id as the data set spells it")->required();
  cmd->add_option("--top", f->top, "How many items (default 10; fewer when fewer items are left to recommend)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--data", f->data,
                  "Ratings whose items the user has seen, and ML-100K titles (default: the data the model was "
                  "trained on)")
      ->check(non_empty_path());
  cmd->add_flag("--include-rated", f->include_rated, "Keep the items the user already rated");
  cmd->add_flag("--json", f->json, "Print one JSON object instead of the list");
  cmd->callback([f] { recommend(*f); });
}

}  // namespace curec::app
