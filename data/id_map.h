#pragma once
// Raw ids (as the data set spells them) <-> dense ids 0..n-1. Dense ids follow the increasing
// numeric order of the raw ids, so MovieLens user 1 is 0 and item 1682 is 1681, exactly the
// book's `user_id - 1`.
#include <cstdint>
#include <optional>
#include <vector>

namespace curec::data {

class IdMap {
 public:
  IdMap() = default;
  // From any raw ids (repeats allowed); `what` names them in errors ("user", "item").
  static IdMap from_raw(const std::vector<int64_t>& raw, const char* what = "id");
  // Raw ids 1..n for dense 0..n-1, as generated data sets name theirs.
  static IdMap one_based(int32_t n, const char* what = "id");

  int32_t size() const { return static_cast<int32_t>(raw_.size()); }
  std::optional<int32_t> find(int64_t raw) const;
  int32_t dense(int64_t raw) const;  // throws for an id the map does not hold
  int64_t raw(int32_t dense) const;  // throws for dense outside [0, size)
  const std::vector<int64_t>& raw_ids() const { return raw_; }  // sorted, index = dense id

 private:
  std::vector<int64_t> raw_;
  // Direct lookup table over [min, min + table.size()) when the raw ids are dense enough;
  // -1 marks a hole. Otherwise lookups binary-search raw_.
  std::vector<int32_t> table_;
  int64_t min_ = 0;
  const char* what_ = "id";
};

}  // namespace curec::data
