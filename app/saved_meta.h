#pragma once
// What a saved model records of the data it was trained on, so that `curec predict`,
// `recommend` and `evaluate` can speak raw ids and find its split again: the sorted raw user
// and item ids, the data (an ML-100K folder resolved to its path), the split and the seed.
#include <map>
#include <string>
#include <vector>

#include "app/recipe.h"
#include "app/ratings_source.h"

namespace curec::app {

std::map<std::string, std::string> data_meta(const RatingsSource& source, const RunSettings& s,
                                             const std::string& split);

// "1,2,3": how a model file records a list of ids or sizes.
std::string join_ids(const std::vector<int64_t>& ids);

// Writes a trained model with its record (meta must name "model"), when the settings ask for it.
void save_if_asked(const RunSettings& s, const nn::Module& model, const std::map<std::string, std::string>& meta);
// The same for a model that is not a Module (ALS, BPMF): its state.
void save_if_asked(const RunSettings& s, const nn::StateDict& state, const std::map<std::string, std::string>& meta);

}  // namespace curec::app
