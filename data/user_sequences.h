#pragma once
// Each user's items in time order: the input of sequential recommenders (SASRec). Implicit: a
// rating of any value counts as one interaction, as the SASRec paper treats reviews and ratings.
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "data/interactions.h"

namespace curec::data {

struct UserSequences {
  int32_t num_users = 0, num_items = 0;
  std::vector<int64_t> offsets{0};  // [num_users + 1]: user u's items are items[offsets[u], offsets[u + 1])
  std::vector<int32_t> items;       // dense item ids, each user's oldest first
  std::shared_ptr<const IdMap> users, item_ids;  // the data set's id maps (may be null for hand-made sequences)

  int64_t length(int32_t u) const { return offsets[u + 1] - offsets[u]; }
  std::span<const int32_t> of(int32_t u) const {
    return {items.data() + offsets[u], static_cast<size_t>(length(u))};
  }
  int64_t size() const { return static_cast<int64_t>(items.size()); }
  // From per-user lists (dense ids in [0, num_items)); for tests and hand-made data.
  static UserSequences from_lists(const std::vector<std::vector<int32_t>>& lists, int32_t num_items);
};

// Every user's rows sorted by timestamp; rows with equal timestamps keep their order in `data`
// (a stable sort), so a file without timestamps is read in file order. Users without rows get
// an empty sequence.
UserSequences user_sequences(const Interactions& data);

}  // namespace curec::data
