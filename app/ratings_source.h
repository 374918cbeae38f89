#pragma once
// Turns a user's `--data` argument into ratings: a MovieLens folder (ML-100K u.data, ML-1M/10M
// ratings.dat, ML latest/20M/25M ratings.csv), a ratings file (format detected), or
// "synthetic" (planted low-rank ratings), or "seq:FILE", a file of `user item` lines in time order
// (the SASRec authors' format, data/sequence_file.h). "" means ml-100k in the default data folder.
#include <string>

#include "data/interactions.h"

namespace curec::app {

struct RatingsSource {
  data::Interactions data;
  std::string description;  // e.g. "ml-100k (/path)", for logs and JSON
  std::string ml100k_dir = "";  // the folder, when the ratings are an ML-100K u.data (canonical splits)
};

// Which planted generator "synthetic" means: explicit low-rank ratings (rating models) or
// implicit sequences with a learnable next-item structure (ranking and sequence models).
enum class Synthetic { ratings, sequences };

// A ratings file named as --data names one: "FORMAT:PATH" (FORMAT in ml-100k, ml-dat, ml-csv,
// csv, tsv) or a PATH whose format is detected. Read into the given id spaces when they are set.
data::Interactions read_ratings_file(const std::string& spec, std::shared_ptr<const data::IdMap> users = nullptr,
                               std::shared_ptr<const data::IdMap> items = nullptr);

RatingsSource load_ratings_source(const std::string& spec, uint64_t seed = 0, Synthetic synthetic = Synthetic::ratings);

}  // namespace curec::app
