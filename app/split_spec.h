#pragma once
// A user's `--split`, turned into a train/test split of a ratings source.
//
//   ""  or "random"   the book's random split, 10% test, from the seed
//   "random:R"        random, test ratio R in (0, 1)
//   "seq"             sequence-aware: each user's latest interaction is the test row
//   "loo"             leave one random interaction per user out (from the seed)
//   "u1".."u5", "ua", "ub"   ML-100K's canonical files (the data must be an ML-100K folder)
//   "test:FILE"       the ratings of FILE (same format rules as --data) are the test set, every
//                     other rating of the data set trains; each test rating must be in the data
#include <cstdint>
#include <string>

#include "app/ratings_source.h"
#include "data/split.h"

namespace curec::app {

struct NamedSplit {
  data::Split split;
  std::string description;  // e.g. "random 90/10, seed 0", for logs and JSON
};

// "" when `spec` is well formed, else what is wrong with it (for command-line validation,
// before any data is read).
std::string split_spec_error(const std::string& spec);

NamedSplit split_by_spec(const RatingsSource& source, const std::string& spec, uint64_t seed);

}  // namespace curec::app
