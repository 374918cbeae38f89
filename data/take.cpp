#include "data/take.h"

#include <cstring>

namespace curec::data {

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
  int64_t rows = column.size(0), n = indices.numel();
  int64_t row_bytes = rows ? static_cast<int64_t>(column.nbytes()) / rows : 0;
  bool idx64 = indices.dtype() == DType::i64;
  if (n == 0) return out;
  if (column.is_cuda()) {
#if CUREC_WITH_CUDA
    // The output's row size, not row_bytes: with no rows that is 0, and the kernel would skip
    // the rows it must zero and the indices it must reject.
    cuda::take_rows(column.raw_data(), rows, static_cast<int64_t>(out.nbytes()) / n, indices.raw_data(), idx64, n,
                    out.raw_data(), column.device().index);
    return out;
#endif
  }
  const char* src = static_cast<const char*>(column.raw_data());
  char* dst = static_cast<char*>(out.raw_data());
  for (int64_t i = 0; i < n; ++i) {
    int64_t r = idx64 ? indices.data<int64_t>()[i] : indices.data<int32_t>()[i];
    CUREC_CHECK(r >= 0 && r < rows, "take_rows: index ", r, " at position ", i, " is out of range for ",
                column.str(), " (valid: 0..", rows - 1, ")");
    std::memcpy(dst + i * row_bytes, src + r * row_bytes, static_cast<size_t>(row_bytes));
  }
  return out;
}

}  // namespace curec::data
