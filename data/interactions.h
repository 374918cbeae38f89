#pragma once
// A data set of (user, item, rating, timestamp) rows over dense ids, as columns. Splits of one
// data set share its IdMaps, so dense ids mean the same thing in train and test.
#include <cstdint>
#include <memory>
#include <vector>

#include "core/tensor.h"
#include "data/id_map.h"

namespace curec::data {

struct Interactions {
  std::vector<int32_t> user, item;  // dense ids
  std::vector<float> rating;        // 1 for implicit feedback
  std::vector<int64_t> timestamp;   // 0 when the source has none
  int32_t num_users = 0, num_items = 0;
  std::shared_ptr<const IdMap> users, items;  // shared by splits of one data set
  // The file line of row 0 when the rows are a file's, in file order (row r is line
  // first_line + r); 0 otherwise (subsets, synthetic data). For messages that point at a line.
  int64_t first_line = 0;

  size_t size() const { return user.size(); }
  bool empty() const { return user.empty(); }
  void reserve(size_t n);
  void push_back(int32_t u, int32_t i, float r, int64_t t);
  // The given rows, in that order, over the same id spaces.
  Interactions subset(const std::vector<int64_t>& rows) const;
  // Same rows and id spaces, but no rows: the start of a split.
  Interactions empty_like() const;
  // Every interaction counts as 1 (the book's implicit mode).
  Interactions implicit() const;
  // Throws unless the columns have equal lengths and every id lies in [0, num_*).
  void validate() const;

  // Columns as 1-D tensors on `device`: i32 users/items, f32 ratings, i64 timestamps.
  Tensor users_tensor(Device device = Device::cpu()) const;
  Tensor items_tensor(Device device = Device::cpu()) const;
  Tensor ratings_tensor(Device device = Device::cpu()) const;
  Tensor timestamps_tensor(Device device = Device::cpu()) const;
};

}  // namespace curec::data
