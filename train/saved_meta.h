#pragma once
// What a saved model records of the data it was trained on, so that `curec predict`,
// `recommend` and `evaluate` can speak raw ids and find its split again: the sorted raw user
// and item ids, the --data (an ML-100K folder resolved to its path), the --split and the seed.
#include <map>
#include <string>

#include "data/ratings_source.h"
#include "train/experiment.h"

namespace curec::train {

std::map<std::string, std::string> data_meta(const data::RatingsSource& source, const RunOptions& o,
                                             const std::string& split);

}  // namespace curec::train
