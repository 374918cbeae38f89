#include "data/csr.h"

#include <algorithm>
#include <numeric>

#include "core/error.h"

namespace curec::data {
namespace {

Csr build(const std::vector<int32_t>& row_of, const std::vector<int32_t>& col_of, const std::vector<float>& val_of,
          int64_t rows, int64_t cols, const char* row_name, const char* col_name) {
  Csr m;
  m.rows = rows;
  m.cols = cols;
  m.row_ptr.assign(static_cast<size_t>(rows) + 1, 0);
  const size_t n = row_of.size();
  for (size_t k = 0; k < n; ++k) {
    CUREC_CHECK(row_of[k] >= 0 && row_of[k] < rows && col_of[k] >= 0 && col_of[k] < cols, "csr: row ", k, " has ",
                row_name, " ", row_of[k], " / ", col_name, " ", col_of[k], " outside [0, ", rows, ") x [0, ", cols,
                ")");
    ++m.row_ptr[static_cast<size_t>(row_of[k]) + 1];
  }
  std::partial_sum(m.row_ptr.begin(), m.row_ptr.end(), m.row_ptr.begin());
  std::vector<int64_t> next(m.row_ptr.begin(), m.row_ptr.end() - 1);
  std::vector<int64_t> order(n);  // interaction index per CSR slot
  for (size_t k = 0; k < n; ++k) order[next[row_of[k]]++] = static_cast<int64_t>(k);
  m.col.resize(n);
  m.val.resize(n);
  for (int64_t r = 0; r < rows; ++r) {
    auto b = order.begin() + m.row_ptr[r], e = order.begin() + m.row_ptr[r + 1];
    std::sort(b, e, [&](int64_t x, int64_t y) { return col_of[x] < col_of[y]; });
    for (auto it = b; it != e; ++it) {
      const size_t slot = static_cast<size_t>(it - order.begin());
      m.col[slot] = col_of[*it];
      m.val[slot] = val_of[*it];
      CUREC_CHECK(it == b || col_of[*(it - 1)] != col_of[*it], "csr: ", row_name, " ", r, " and ", col_name, " ",
                  col_of[*it], " occur twice (rows ", *(it - 1), " and ", *it,
                  "); deduplicate the interactions before building a matrix");
    }
  }
  return m;
}

Tensor densify_all(const Csr& m, Device device) {
  Tensor out = Tensor::zeros({m.rows, m.cols}, DType::f32, Device::cpu());
  float* p = out.data<float>();
  for (int64_t r = 0; r < m.rows; ++r)
    for (int64_t k = m.row_ptr[r]; k < m.row_ptr[r + 1]; ++k) p[r * m.cols + m.col[k]] = m.val[k];
  return out.to(device);
}

}  // namespace

bool Csr::contains(int64_t r, int32_t c) const {
  if (r < 0 || r >= rows) return false;
  auto b = col.begin() + row_ptr[r], e = col.begin() + row_ptr[r + 1];
  return std::binary_search(b, e, c);
}

float Csr::value(int64_t r, int32_t c, float absent) const {
  if (r < 0 || r >= rows) return absent;
  auto b = col.begin() + row_ptr[r], e = col.begin() + row_ptr[r + 1];
  auto it = std::lower_bound(b, e, c);
  return it != e && *it == c ? val[static_cast<size_t>(it - col.begin())] : absent;
}

Csr csr_by_user(const Interactions& d) {
  return build(d.user, d.item, d.rating, d.num_users, d.num_items, "user", "item");
}
Csr csr_by_item(const Interactions& d) {
  return build(d.item, d.user, d.rating, d.num_items, d.num_users, "item", "user");
}

Tensor dense_user_item(const Interactions& d, Device device) { return densify_all(csr_by_user(d), device); }
Tensor dense_item_user(const Interactions& d, Device device) { return densify_all(csr_by_item(d), device); }

CsrTensors to_tensors(const Csr& m, Device device) {
  CsrTensors t;
  t.rows = m.rows;
  t.cols = m.cols;
  t.row_ptr = Tensor::from_vector(m.row_ptr, {m.rows + 1}, device);
  t.col = Tensor::from_vector(m.col, {m.nnz()}, device);
  t.val = Tensor::from_vector(m.val, {m.nnz()}, device);
  return t;
}

}  // namespace curec::data
