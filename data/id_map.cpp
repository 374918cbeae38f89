#include "data/id_map.h"

#include <algorithm>
#include <limits>
#include <numeric>

#include "core/error.h"

namespace curec::data {
namespace {
// Table lookups are worth their memory while the raw range is within this factor of the count.
constexpr int64_t kTableSlack = 8;
}  // namespace

IdMap IdMap::one_based(int32_t n, const char* what) {
  std::vector<int64_t> raw(static_cast<size_t>(n));
  std::iota(raw.begin(), raw.end(), 1);
  return from_raw(raw, what);
}

IdMap IdMap::from_raw(const std::vector<int64_t>& raw, const char* what) {
  IdMap m;
  m.what_ = what;
  if (raw.empty()) return m;
  auto [lo, hi] = std::minmax_element(raw.begin(), raw.end());
  const int64_t min = *lo, max = *hi;
  // Range in unsigned arithmetic: max - min can overflow int64 for extreme ids.
  const uint64_t range = static_cast<uint64_t>(max) - static_cast<uint64_t>(min) + 1;
  const bool use_table = range != 0 && range <= static_cast<uint64_t>(kTableSlack) * raw.size() + 1024;
  if (use_table) {
    std::vector<uint8_t> seen(range, 0);
    for (int64_t r : raw) seen[static_cast<uint64_t>(r) - static_cast<uint64_t>(min)] = 1;
    for (uint64_t k = 0; k < range; ++k)
      if (seen[k]) m.raw_.push_back(static_cast<int64_t>(static_cast<uint64_t>(min) + k));
  } else {
    m.raw_ = raw;
    std::sort(m.raw_.begin(), m.raw_.end());
    m.raw_.erase(std::unique(m.raw_.begin(), m.raw_.end()), m.raw_.end());
  }
  CUREC_CHECK(m.raw_.size() <= static_cast<size_t>(std::numeric_limits<int32_t>::max()), "IdMap: ",
              m.raw_.size(), " distinct ", what, " ids exceed the int32 dense id space");
  if (use_table) {
    m.min_ = min;
    m.table_.assign(range, -1);
    for (size_t d = 0; d < m.raw_.size(); ++d)
      m.table_[static_cast<uint64_t>(m.raw_[d]) - static_cast<uint64_t>(min)] = static_cast<int32_t>(d);
  }
  return m;
}

std::optional<int32_t> IdMap::find(int64_t raw) const {
  if (!table_.empty()) {
    const uint64_t k = static_cast<uint64_t>(raw) - static_cast<uint64_t>(min_);
    if (raw < min_ || k >= table_.size() || table_[k] < 0) return std::nullopt;
    return table_[k];
  }
  auto it = std::lower_bound(raw_.begin(), raw_.end(), raw);
  if (it == raw_.end() || *it != raw) return std::nullopt;
  return static_cast<int32_t>(it - raw_.begin());
}

int32_t IdMap::dense(int64_t raw) const {
  auto d = find(raw);
  CUREC_CHECK(d.has_value(), "IdMap: ", what_, " id ", raw, " is not among the ", raw_.size(), " known ", what_,
              " ids");
  return *d;
}

int64_t IdMap::raw(int32_t dense) const {
  CUREC_CHECK(dense >= 0 && dense < size(), "IdMap: dense ", what_, " id ", dense, " outside [0, ", size(), ")");
  return raw_[static_cast<size_t>(dense)];
}

}  // namespace curec::data
