#include "data/take.h"

#include <algorithm>
#include <cstring>
#include <type_traits>

#include "core/dispatch.h"
#include "core/parallel.h"
#include "core/prefetch.h"

namespace curec::data {
namespace {

void take_rows_cpu(const Tensor& column, const Tensor& indices, Tensor& out) {
  const int64_t rows = column.size(0), n = indices.numel();
  const int64_t row_bytes = rows ? static_cast<int64_t>(column.nbytes()) / rows : 0;
  const bool idx64 = indices.dtype() == DType::i64;
  const char* src = static_cast<const char*>(column.raw_data());
  char* dst = static_cast<char*>(out.raw_data());
  const int64_t* i64 = idx64 ? indices.data<int64_t>() : nullptr;
  const int32_t* i32 = idx64 ? nullptr : indices.data<int32_t>();
  auto row_at = [&](int64_t i) -> int64_t { return i64 ? i64[i] : i32[i]; };
  for (int64_t i = 0; i < n; ++i) {  // all first, so the first bad position is the one named
    const int64_t r = row_at(i);
    CUREC_CHECK(r >= 0 && r < rows, "take_rows: index ", r, " at position ", i, " is out of range for ",
                column.str(), " (valid: 0..", rows - 1, ")");
  }
  auto copy = [&](int64_t b, int64_t e, auto bytes) {
    for (int64_t i = b; i < e; ++i) {
      if (i + kPrefetchAhead < e) prefetch_bytes(src + row_at(i + kPrefetchAhead) * bytes, static_cast<size_t>(bytes));
      std::memcpy(dst + i * bytes, src + row_at(i) * bytes, static_cast<size_t>(bytes));
    }
  };
  // Rows of one 4-byte value (ids, ratings) are most of what a loader takes: a constant size.
  parallel_for(0, n, std::max<int64_t>(1, kCpuGrain * 4 / std::max<int64_t>(row_bytes, 1)), [&](int64_t b, int64_t e) {
    if (row_bytes == 4) copy(b, e, std::integral_constant<int64_t, 4>{});
    else if (row_bytes == 8) copy(b, e, std::integral_constant<int64_t, 8>{});
    else copy(b, e, row_bytes);
  });
}

}  // namespace

Tensor take_rows(const Tensor& column, const Tensor& indices) {
  check_defined("take_rows", column, "column");
  check_defined("take_rows", indices, "indices");
  check_same_device("take_rows", column, indices);
  CUREC_CHECK(column.dim() >= 1, "take_rows: column must have at least one dimension, got ", column.str());
  CUREC_CHECK(indices.dtype() == DType::i32 || indices.dtype() == DType::i64,
              "take_rows: indices must be i32 or i64, got ", indices.str());
  Shape out_shape = indices.shape();
  for (int64_t d = 1; d < column.dim(); ++d) out_shape.push_back(column.size(d));
  Tensor out = Tensor::empty(out_shape, column.dtype(), column.device());
  const int64_t n = indices.numel();
  if (n == 0) return out;
  dispatch(
      "take_rows", column.device(), [&] { take_rows_cpu(column, indices, out); },
      [&](int dev) {
        // The output's row size, not the column's: with no rows that is 0, and the kernel would
        // skip the rows it must zero and the indices it must reject.
        cuda::take_rows(column.raw_data(), column.size(0), static_cast<int64_t>(out.nbytes()) / n,
                        indices.raw_data(), indices.dtype() == DType::i64, n, out.raw_data(), dev);
      });
  return out;
}

}  // namespace curec::data
