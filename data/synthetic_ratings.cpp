#include "data/synthetic_ratings.h"

#include <algorithm>

#include "core/error.h"
#include "core/philox.h"
#include "core/random_math.h"

namespace curec::data {
namespace {

// Disjoint Philox counter ranges per quantity, so changing one size leaves the others' draws.
constexpr uint64_t kUserFactors = 0, kItemFactors = 1ull << 40, kUserBias = 2ull << 40, kItemBias = 3ull << 40,
                   kObserved = 4ull << 40, kNoise = 5ull << 40;

float normal(const SyntheticRatingsConfig& c, uint64_t base, uint64_t i, float scale) {
  return random_math::normal(c.seed, base, i, 0.0f, scale);
}

void check(const SyntheticRatingsConfig& c) {
  CUREC_CHECK(c.num_users > 0 && c.num_items > 0 && c.rank > 0, "synthetic_ratings: users ", c.num_users,
              ", items ", c.num_items, ", rank ", c.rank, " must all be positive");
  CUREC_CHECK(c.density > 0.0 && c.density <= 1.0, "synthetic_ratings: density ", c.density, " outside (0, 1]");
}

}  // namespace

float planted_score(const SyntheticRatingsConfig& c, int32_t u, int32_t i) {
  check(c);
  CUREC_CHECK(u >= 0 && u < c.num_users && i >= 0 && i < c.num_items, "planted_score: (", u, ", ", i,
              ") outside [0, ", c.num_users, ") x [0, ", c.num_items, ")");
  float dot = 0.0f;
  for (int32_t k = 0; k < c.rank; ++k)
    dot += normal(c, kUserFactors, static_cast<uint64_t>(u) * c.rank + k, c.factor_scale) *
           normal(c, kItemFactors, static_cast<uint64_t>(i) * c.rank + k, c.factor_scale);
  return c.mean + normal(c, kUserBias, u, c.bias_scale) + normal(c, kItemBias, i, c.bias_scale) + dot;
}

Interactions synthetic_ratings(const SyntheticRatingsConfig& c) {
  check(c);
  std::vector<float> p(static_cast<size_t>(c.num_users) * c.rank), q(static_cast<size_t>(c.num_items) * c.rank);
  for (size_t k = 0; k < p.size(); ++k) p[k] = normal(c, kUserFactors, k, c.factor_scale);
  for (size_t k = 0; k < q.size(); ++k) q[k] = normal(c, kItemFactors, k, c.factor_scale);
  Interactions d;
  d.num_users = c.num_users;
  d.num_items = c.num_items;
  d.users = std::make_shared<const IdMap>(IdMap::one_based(c.num_users, "user"));
  d.items = std::make_shared<const IdMap>(IdMap::one_based(c.num_items, "item"));
  d.reserve(static_cast<size_t>(c.density * c.num_users * c.num_items * 1.05) + 16);
  const float keep = static_cast<float>(c.density);
  for (int32_t u = 0; u < c.num_users; ++u) {
    const float bu = normal(c, kUserBias, u, c.bias_scale);
    for (int32_t i = 0; i < c.num_items; ++i) {
      const uint64_t cell = static_cast<uint64_t>(u) * c.num_items + i;
      if (!(philox::uniform(c.seed, kObserved, cell) < keep)) continue;
      float dot = 0.0f;
      for (int32_t k = 0; k < c.rank; ++k) dot += p[static_cast<size_t>(u) * c.rank + k] * q[static_cast<size_t>(i) * c.rank + k];
      const float score = c.mean + bu + normal(c, kItemBias, i, c.bias_scale) + dot + normal(c, kNoise, cell, c.noise);
      d.push_back(u, i, std::clamp(score, 1.0f, 5.0f), static_cast<int64_t>(d.size()));
    }
  }
  return d;
}

}  // namespace curec::data
