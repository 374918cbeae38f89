#include "nn/sparse_rows.h"

#include <algorithm>
#include <numeric>

namespace curec::nn {

RowRuns group_rows(const int64_t* indices, int64_t n, int64_t table_rows, const char* op) {
  for (int64_t i = 0; i < n; ++i)
    CUREC_CHECK(indices[i] >= 0 && indices[i] < table_rows, op, ": row-sparse gradient names row ", indices[i],
                " at position ", i, ", outside a table of ", table_rows, " rows");
  RowRuns r;
  r.order.resize(static_cast<size_t>(n));
  std::iota(r.order.begin(), r.order.end(), int64_t{0});
  std::stable_sort(r.order.begin(), r.order.end(), [&](int64_t a, int64_t b) { return indices[a] < indices[b]; });
  for (int64_t k = 0; k < n; ++k)
    if (k == 0 || indices[r.order[k]] != indices[r.order[k - 1]]) r.starts.push_back(k);
  r.starts.push_back(n);
  if (n == 0) r.starts.clear();
  return r;
}

}  // namespace curec::nn
