#include "data/user_sequences.h"

#include <algorithm>
#include <numeric>

#include "core/error.h"

namespace curec::data {

UserSequences UserSequences::from_lists(const std::vector<std::vector<int32_t>>& lists, int32_t num_items) {
  UserSequences s;
  s.num_users = static_cast<int32_t>(lists.size());
  s.num_items = num_items;
  for (size_t u = 0; u < lists.size(); ++u) {
    for (int32_t i : lists[u]) {
      CUREC_CHECK(i >= 0 && i < num_items, "user sequences: user ", u, " has item ", i, " outside [0, ", num_items, ")");
      s.items.push_back(i);
    }
    s.offsets.push_back(s.size());
  }
  return s;
}

UserSequences user_sequences(const Interactions& data) {
  data.validate();
  // Counting sort by user keeps file order within a user; the stable sort by time then keeps
  // it among equal timestamps.
  UserSequences s;
  s.num_users = data.num_users;
  s.num_items = data.num_items;
  s.users = data.users;
  s.item_ids = data.items;
  s.offsets.assign(static_cast<size_t>(data.num_users) + 1, 0);
  for (int32_t u : data.user) ++s.offsets[static_cast<size_t>(u) + 1];
  std::partial_sum(s.offsets.begin(), s.offsets.end(), s.offsets.begin());
  std::vector<int64_t> rows(data.size()), next(s.offsets.begin(), s.offsets.end() - 1);
  for (size_t r = 0; r < data.size(); ++r) rows[static_cast<size_t>(next[data.user[r]]++)] = static_cast<int64_t>(r);
  s.items.resize(data.size());
  for (int32_t u = 0; u < s.num_users; ++u) {
    auto first = rows.begin() + s.offsets[u], last = rows.begin() + s.offsets[u + 1];
    std::stable_sort(first, last, [&](int64_t a, int64_t b) { return data.timestamp[a] < data.timestamp[b]; });
    for (auto it = first; it != last; ++it) s.items[static_cast<size_t>(it - rows.begin())] = data.item[*it];
  }
  return s;
}

}  // namespace curec::data
