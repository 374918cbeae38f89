#include "data/stats.h"

#include <sstream>

namespace curec::data {

Stats stats(const Interactions& data) {
  Stats s;
  s.num_users = data.num_users;
  s.num_items = data.num_items;
  s.num_ratings = static_cast<int64_t>(data.size());
  const double cells = static_cast<double>(s.num_users) * s.num_items;
  s.sparsity = cells > 0 ? 1.0 - static_cast<double>(s.num_ratings) / cells : 0.0;
  for (float r : data.rating) ++s.histogram[r];
  return s;
}

std::string Stats::str() const {
  std::ostringstream os;
  os << "users " << num_users << ", items " << num_items << ", ratings " << num_ratings << ", sparsity "
     << sparsity << ", histogram {";
  bool first = true;
  for (auto [value, count] : histogram) {
    os << (first ? "" : ", ") << value << ": " << count;
    first = false;
  }
  os << "}";
  return os.str();
}

}  // namespace curec::data
