#pragma once
// Summary statistics of a ratings data set (the book's "users, items, sparsity" printout).
#include <cstdint>
#include <map>
#include <string>

#include "data/interactions.h"

namespace curec::data {

struct Stats {
  int32_t num_users = 0, num_items = 0;
  int64_t num_ratings = 0;
  double sparsity = 0;                     // 1 - ratings / (users * items)
  std::map<float, int64_t> histogram;      // rating value -> count
  std::string str() const;                 // one readable line
};

Stats stats(const Interactions& data);

}  // namespace curec::data
