#include "data/sequence_split.h"

#include <algorithm>

namespace curec::data {

int64_t SequenceSplit::evaluated_users() const {
  return std::count_if(test.begin(), test.end(), [](int32_t i) { return i >= 0; });
}

SequenceSplit split_last_two(const UserSequences& sequences) {
  SequenceSplit s;
  s.all = sequences;
  UserSequences& tr = s.train;
  tr.num_users = sequences.num_users;
  tr.num_items = sequences.num_items;
  tr.users = sequences.users;
  tr.item_ids = sequences.item_ids;
  s.valid.assign(static_cast<size_t>(sequences.num_users), -1);
  s.test.assign(static_cast<size_t>(sequences.num_users), -1);
  for (int32_t u = 0; u < sequences.num_users; ++u) {
    std::span<const int32_t> items = sequences.of(u);
    size_t keep = items.size();
    if (items.size() >= 3) {
      keep -= 2;
      s.valid[u] = items[keep];
      s.test[u] = items[keep + 1];
    }
    tr.items.insert(tr.items.end(), items.begin(), items.begin() + static_cast<std::ptrdiff_t>(keep));
    tr.offsets.push_back(tr.size());
  }
  return s;
}

}  // namespace curec::data
