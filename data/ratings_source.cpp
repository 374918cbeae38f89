#include "data/ratings_source.h"

#include <filesystem>

#include "core/error.h"
#include "data/movielens.h"
#include "data/paths.h"
#include "data/ratings_reader.h"
#include "data/synthetic_ratings.h"

namespace curec::data {

RatingsSource load_ratings_source(const std::string& spec, uint64_t seed) {
  namespace fs = std::filesystem;
  if (spec == "synthetic") {
    SyntheticRatingsConfig c;
    c.seed = seed;
    return {synthetic_ratings(c), "synthetic planted low-rank ratings"};
  }
  fs::path p = spec.empty() ? fs::path(default_data_dir()) / "ml-100k" : fs::path(spec);
  std::error_code ec;
  if (fs::is_directory(p, ec)) {
    if (fs::exists(p / "u.data")) return {read_ml100k(p.string()), "ml-100k (" + p.string() + ")"};
    if (fs::exists(p / "ratings.dat")) return {read_ml_dat(p.string()), "ratings.dat (" + p.string() + ")"};
    if (fs::exists(p / "ratings.csv")) return {read_ml_csv(p.string()), "ratings.csv (" + p.string() + ")"};
    CUREC_FAIL("no ratings in ", p.string(), ": expected u.data (ML-100K), ratings.dat (ML-1M/10M) or ratings.csv");
  }
  if (fs::is_regular_file(p, ec)) return {read_ratings(p.string(), detect_ratings_format(p.string())), p.string()};
  if (spec.empty())
    CUREC_FAIL("MovieLens-100K not found at ", p.string(), ": set CUREC_DATA_DIR to the folder holding ml-100k/, ",
               "run `curec data get ml-100k`, or pass --data synthetic");
  CUREC_FAIL("--data ", spec, ": no such file or folder (give a MovieLens folder, a ratings file or 'synthetic')");
}

}  // namespace curec::data
