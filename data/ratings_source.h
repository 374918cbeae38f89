#pragma once
// Turns a user's `--data` argument into ratings: a MovieLens folder (ML-100K u.data, ML-1M/10M
// ratings.dat, ML latest/20M/25M ratings.csv), a ratings file (format detected), or
// "synthetic" (planted low-rank ratings). "" means ml-100k in the default data folder.
#include <string>

#include "data/interactions.h"

namespace curec::data {

struct RatingsSource {
  Interactions data;
  std::string description;  // e.g. "ml-100k (/path)", for logs and JSON
};

// Which planted generator "synthetic" means: explicit low-rank ratings (rating models) or
// implicit sequences with a learnable next-item structure (ranking and sequence models).
enum class Synthetic { ratings, sequences };

RatingsSource load_ratings_source(const std::string& spec, uint64_t seed = 0, Synthetic synthetic = Synthetic::ratings);

}  // namespace curec::data
