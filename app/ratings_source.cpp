#include "app/ratings_source.h"

#include <filesystem>
#include <optional>
#include <set>

#include "core/error.h"
#include "data/movielens.h"
#include "data/paths.h"
#include "data/ratings_reader.h"
#include "data/sequence_file.h"
#include "data/synthetic_ratings.h"
#include "data/synthetic_sequences.h"

namespace curec::app {

using namespace curec::data;

namespace {

// Cycle walks with 100 items a cycle and at most 30 steps a user, so a user meets an item twice
// only through the noise; those repeats are dropped (implicit feedback is a set).
RatingsSource planted_sequences(uint64_t seed) {
  SyntheticSequenceOptions o;
  o.num_users = 300;
  o.num_items = 600;
  o.num_cycles = 6;
  o.seed = seed;
  Interactions all = synthetic_sequences(o);
  std::set<std::pair<int32_t, int32_t>> seen;
  std::vector<int64_t> keep;
  for (size_t r = 0; r < all.size(); ++r)
    if (seen.insert({all.user[r], all.item[r]}).second) keep.push_back(static_cast<int64_t>(r));
  return {all.subset(keep), "synthetic planted item cycles (implicit sequences)"};
}

}  // namespace

// "FORMAT:PATH" names the format of a ratings file instead of detecting it.
static std::optional<RatingsFormat> named_format(const std::string& name) {
  if (name == "ml-100k") return RatingsFormat::ml100k();
  if (name == "ml-dat") return RatingsFormat::ml_dat();
  if (name == "ml-csv") return RatingsFormat::ml_csv();
  if (name == "csv") return RatingsFormat::csv(",", false, true);
  if (name == "tsv") return RatingsFormat::csv("\t", false, true);
  return std::nullopt;
}

Interactions read_ratings_file(const std::string& spec, std::shared_ptr<const IdMap> users,
                               std::shared_ptr<const IdMap> items) {
  namespace fs = std::filesystem;
  std::string path = spec;
  std::optional<RatingsFormat> format;
  if (auto colon = spec.find(':'); colon != std::string::npos) {
    if ((format = named_format(spec.substr(0, colon)))) path = spec.substr(colon + 1);
  }
  std::error_code ec;
  // Only absence is judged here: the reader refuses a directory, FIFO or device by name.
  CUREC_CHECK(fs::exists(path, ec), path, ": no such ratings file");
  if (!format) format = detect_ratings_format(path);
  return users && items ? read_ratings(path, *format, users, items) : read_ratings(path, *format);
}

RatingsSource load_ratings_source(const std::string& spec, uint64_t seed, Synthetic synthetic) {
  namespace fs = std::filesystem;
  if (auto colon = spec.find(':'); colon != std::string::npos && named_format(spec.substr(0, colon)))
    return {read_ratings_file(spec), spec.substr(colon + 1) + " (" + spec.substr(0, colon) + ")"};
  if (spec.starts_with("seq:")) {
    const std::string path = spec.substr(4);
    std::error_code ec;
    CUREC_CHECK(fs::exists(path, ec), "--data ", spec, ": no such sequences file");
    return {read_sequence_file(path), path + " (user item sequences)"};
  }
  if (spec == "synthetic" && synthetic == Synthetic::sequences) return planted_sequences(seed);
  if (spec == "synthetic") {
    SyntheticRatingsConfig c;
    c.seed = seed;
    return {synthetic_ratings(c), "synthetic planted low-rank ratings"};
  }
  fs::path p = spec.empty() ? fs::path(default_data_dir()) / "ml-100k" : fs::path(spec);
  std::error_code ec;
  if (fs::is_directory(p, ec)) {
    if (fs::exists(p / "u.data")) return {read_ml100k(p.string()), "ml-100k (" + p.string() + ")", p.string()};
    if (fs::exists(p / "ratings.dat")) return {read_ml_dat(p.string()), "ratings.dat (" + p.string() + ")"};
    if (fs::exists(p / "ratings.csv")) return {read_ml_csv(p.string()), "ratings.csv (" + p.string() + ")"};
    CUREC_FAIL("no ratings in ", p.string(), ": expected u.data (ML-100K), ratings.dat (ML-1M/10M) or ratings.csv");
  }
  if (fs::exists(p, ec)) return {read_ratings_file(p.string()), p.string()};
  if (spec.empty())
    CUREC_FAIL("MovieLens-100K not found at ", p.string(), ": set CUREC_DATA_DIR to the folder holding ml-100k/, ",
               "run `curec data get ml-100k`, or pass --data synthetic");
  CUREC_FAIL("--data ", spec, ": no such file or folder (give a MovieLens folder, a ratings file, seq:FILE or 'synthetic')");
}

}  // namespace curec::app
