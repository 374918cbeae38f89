#pragma once
// Compressed sparse rows of an interaction matrix (users x items or items x users), the
// dense matrices AutoRec trains on, and the same CSR as device tensors for batch-wise
// densification (data/densify.h).
#include <cstdint>
#include <vector>

#include "core/tensor.h"
#include "data/interactions.h"

namespace curec::data {

struct Csr {
  int64_t rows = 0, cols = 0;
  std::vector<int64_t> row_ptr;  // [rows + 1]
  std::vector<int32_t> col;      // [nnz], increasing within a row
  std::vector<float> val;        // [nnz]

  int64_t nnz() const { return static_cast<int64_t>(col.size()); }
  int64_t row_size(int64_t r) const { return row_ptr[r + 1] - row_ptr[r]; }
  bool contains(int64_t r, int32_t c) const;  // binary search in row r
  float value(int64_t r, int32_t c, float absent = 0.0f) const;
};

// Rows = users, cols = items / rows = items, cols = users. A (user, item) pair that occurs
// twice is an error: the matrix would have to pick one rating.
Csr csr_by_user(const Interactions& data);
Csr csr_by_item(const Interactions& data);

// Dense f32 [num_users, num_items] / [num_items, num_users], 0 where there is no rating.
Tensor dense_user_item(const Interactions& data, Device device = Device::cpu());
Tensor dense_item_user(const Interactions& data, Device device = Device::cpu());

// The CSR arrays as tensors on one device: row_ptr i64 [rows + 1], col i32 [nnz], val f32 [nnz].
struct CsrTensors {
  int64_t rows = 0, cols = 0;
  Tensor row_ptr, col, val;
  Device device() const { return row_ptr.device(); }
};
CsrTensors to_tensors(const Csr& csr, Device device = Device::cpu());

}  // namespace curec::data
