#pragma once
// Planted low-rank explicit ratings, for tests that a model learns known structure:
//   rating(u, i) = clip(mean + b_u + b_i + <p_u, q_i> + noise, 1, 5)
// with p_u, q_i ~ N(0, factor_scale^2) of rank `rank`, biases ~ N(0, bias_scale^2) and
// noise ~ N(0, noise^2). Clipping to [1, 5] belongs to this generator (so ratings look like
// MovieLens stars); no reader ever clips. Each (u, i) cell is observed with probability
// `density`. Everything is drawn from Philox keyed by `seed`, so a seed gives the same data.
#include <cstdint>

#include "data/interactions.h"

namespace curec::data {

struct SyntheticRatingsConfig {
  int32_t num_users = 200, num_items = 300, rank = 4;
  double density = 0.1;
  float mean = 3.5f, factor_scale = 0.6f, bias_scale = 0.3f, noise = 0.1f;
  uint64_t seed = 0;
};

// Rows ordered by (user, item); timestamps are the row numbers; raw ids are 1..n.
Interactions synthetic_ratings(const SyntheticRatingsConfig& config);

// The noise-free, unclipped planted score of (u, i): what a perfect model would predict
// before clipping.
float planted_score(const SyntheticRatingsConfig& config, int32_t u, int32_t i);

}  // namespace curec::data
