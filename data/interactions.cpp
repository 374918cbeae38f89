#include "data/interactions.h"

#include "core/error.h"

namespace curec::data {

void Interactions::reserve(size_t n) {
  user.reserve(n);
  item.reserve(n);
  rating.reserve(n);
  timestamp.reserve(n);
}

void Interactions::push_back(int32_t u, int32_t i, float r, int64_t t) {
  user.push_back(u);
  item.push_back(i);
  rating.push_back(r);
  timestamp.push_back(t);
}

Interactions Interactions::empty_like() const {
  Interactions out;
  out.num_users = num_users;
  out.num_items = num_items;
  out.users = users;
  out.items = items;
  return out;
}

Interactions Interactions::subset(const std::vector<int64_t>& rows) const {
  Interactions out = empty_like();
  const int64_t n = static_cast<int64_t>(size());
  out.user.resize(rows.size());
  out.item.resize(rows.size());
  out.rating.resize(rows.size());
  out.timestamp.resize(rows.size());
  for (size_t k = 0; k < rows.size(); ++k) {
    const int64_t r = rows[k];
    CUREC_CHECK(r >= 0 && r < n, "Interactions::subset: row ", r, " (position ", k, ") outside [0, ", n, ")");
    out.user[k] = user[r];
    out.item[k] = item[r];
    out.rating[k] = rating[r];
    out.timestamp[k] = timestamp[r];
  }
  return out;
}

Interactions Interactions::implicit() const {
  Interactions out = *this;
  out.rating.assign(size(), 1.0f);
  return out;
}

void Interactions::validate() const {
  const size_t n = user.size();
  CUREC_CHECK(item.size() == n && rating.size() == n && timestamp.size() == n,
              "Interactions: column lengths differ (user ", n, ", item ", item.size(), ", rating ", rating.size(),
              ", timestamp ", timestamp.size(), ")");
  for (size_t k = 0; k < n; ++k) {
    CUREC_CHECK(user[k] >= 0 && user[k] < num_users, "Interactions: row ", k, " has user ", user[k],
                " outside [0, ", num_users, ")");
    CUREC_CHECK(item[k] >= 0 && item[k] < num_items, "Interactions: row ", k, " has item ", item[k],
                " outside [0, ", num_items, ")");
  }
}

Tensor Interactions::users_tensor(Device device) const {
  return Tensor::from_vector(user, {static_cast<int64_t>(size())}, device);
}
Tensor Interactions::items_tensor(Device device) const {
  return Tensor::from_vector(item, {static_cast<int64_t>(size())}, device);
}
Tensor Interactions::ratings_tensor(Device device) const {
  return Tensor::from_vector(rating, {static_cast<int64_t>(size())}, device);
}
Tensor Interactions::timestamps_tensor(Device device) const {
  return Tensor::from_vector(timestamp, {static_cast<int64_t>(size())}, device);
}

}  // namespace curec::data
