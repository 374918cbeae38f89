#include <cstdio>
#include <memory>

#include "data/download.h"
#include "data/paths.h"
#include "app/ratings_source.h"
#include "data/stats.h"
#include "app/commands.h"
#include "app/output_paths.h"
#include "app/run_flags.h"

namespace curec::app {

void add_data(CLI::App& app) {
  auto* cmd = app.add_subcommand("data", "Inspect and fetch data sets");
  cmd->require_subcommand(1);

  auto* st = cmd->add_subcommand("stats", "Users, items, ratings, sparsity and the rating histogram (D2L §15.2)");
  auto spec = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  st->add_option("--data", *spec, "MovieLens folder, ratings file, or 'synthetic' (default: ml-100k)")
      ->check(non_empty_path());
  st->add_flag("--json", *json, "End stdout with one JSON object");
  st->callback([spec, json] {
    RatingsSource src = load_ratings_source(*spec);
    data::Stats s = data::stats(src.data);
    std::printf("%s\n", src.description.c_str());
    std::printf("number of users: %d, number of items: %d\n", s.num_users, s.num_items);
    std::printf("matrix sparsity: %f\n", s.sparsity);
    std::printf("ratings: %lld\n", static_cast<long long>(s.num_ratings));
    for (const auto& [value, count] : s.histogram) std::printf("  rating %g: %lld\n", value, static_cast<long long>(count));
    if (*json) {
      nlohmann::json h = nlohmann::json::object();
      for (const auto& [value, count] : s.histogram) {
        char key[32];
        std::snprintf(key, sizeof key, "%g", value);
        h[key] = count;
      }
      print_json_line({{"users", s.num_users}, {"items", s.num_items}, {"ratings", s.num_ratings},
                       {"sparsity", s.sparsity}, {"histogram", h}});
    }
  });

  auto* get = cmd->add_subcommand("get", "Download a known data set into the cache (checksum-verified)");
  auto name = std::make_shared<std::string>();
  auto dir = std::make_shared<std::string>(data::cache_dir());
  auto unverified = std::make_shared<bool>(false);
  std::string names;
  for (const auto& d : data::known_datasets()) names += (names.empty() ? "" : ", ") + d.name;
  get->add_option("name", *name, "One of: " + names)->required();
  get->add_option("--dir", *dir, "Cache folder (default: " + data::cache_dir() + ")")->check(non_empty_path());
  get->add_flag("--allow-unverified", *unverified, "Accept a data set that has no published checksum");
  get->callback([name, dir, unverified] {
    const data::DatasetInfo& info = data::find_dataset(*name);
    if (info.checksum.empty() && !*unverified)
      throw CLI::ValidationError(*name, "has no published checksum; pass --allow-unverified to fetch it anyway");
    data::FetchOptions o;
    o.allow_unverified = *unverified;
    std::string path = data::fetch_dataset(info, *dir, o);
    std::printf("%s ready at %s\n", name->c_str(), path.c_str());
  });

  auto* list = cmd->add_subcommand("list", "The data sets `curec data get` knows");
  list->callback([] {
    for (const auto& d : data::known_datasets()) std::printf("%-16s %s\n", d.name.c_str(), d.description.c_str());
  });
}

}  // namespace curec::app
