#include "data/k_core.h"

#include "core/error.h"

namespace curec::data {

namespace {

// Raw ids of the kept dense ids (or the dense ids themselves when there is no map).
std::shared_ptr<const IdMap> survivors(const std::shared_ptr<const IdMap>& map, const std::vector<int32_t>& dense,
                                       const char* what) {
  std::vector<int64_t> raw(dense.size());
  for (size_t k = 0; k < dense.size(); ++k) raw[k] = map ? map->raw(dense[k]) : dense[k];
  return std::make_shared<const IdMap>(IdMap::from_raw(raw, what));
}

}  // namespace

Interactions k_core(const Interactions& data, int k) {
  data.validate();
  if (k <= 1) return data;
  std::vector<char> alive(data.size(), 1);
  bool changed = true;
  while (changed) {
    changed = false;
    std::vector<int64_t> per_user(data.num_users, 0), per_item(data.num_items, 0);
    for (size_t r = 0; r < data.size(); ++r)
      if (alive[r]) ++per_user[data.user[r]], ++per_item[data.item[r]];
    for (size_t r = 0; r < data.size(); ++r) {
      if (alive[r] && (per_user[data.user[r]] < k || per_item[data.item[r]] < k)) {
        alive[r] = 0;
        changed = true;
      }
    }
  }
  std::vector<int64_t> rows;
  for (size_t r = 0; r < data.size(); ++r)
    if (alive[r]) rows.push_back(static_cast<int64_t>(r));
  CUREC_CHECK(!rows.empty(), "k-core filtering with k = ", k, " removes every interaction of the ", data.size(),
              " rows; use a smaller k");
  Interactions kept = data.subset(rows);
  std::vector<int32_t> new_user(data.num_users, -1), new_item(data.num_items, -1), users, items;
  for (size_t r = 0; r < kept.size(); ++r) new_user[kept.user[r]] = new_item[kept.item[r]] = 0;
  for (int32_t u = 0; u < data.num_users; ++u)
    if (new_user[u] == 0) new_user[u] = static_cast<int32_t>(users.size()), users.push_back(u);
  for (int32_t i = 0; i < data.num_items; ++i)
    if (new_item[i] == 0) new_item[i] = static_cast<int32_t>(items.size()), items.push_back(i);
  for (size_t r = 0; r < kept.size(); ++r) {
    kept.user[r] = new_user[kept.user[r]];
    kept.item[r] = new_item[kept.item[r]];
  }
  kept.num_users = static_cast<int32_t>(users.size());
  kept.num_items = static_cast<int32_t>(items.size());
  kept.users = survivors(data.users, users, "user");
  kept.items = survivors(data.items, items, "item");
  kept.first_line = 0;
  return kept;
}

}  // namespace curec::data
