#include "data/densify.h"

#include <cstring>

#include "core/dispatch.h"
#include "core/error.h"

namespace curec::data {

Tensor densify_rows(const CsrTensors& m, const Tensor& rows) {
  check_defined("densify_rows", rows, "rows");
  check_dtype("densify_rows", rows, DType::i64, "rows");
  CUREC_CHECK(rows.dim() == 1, "densify_rows: rows must be 1-D, got ", rows.str());
  CUREC_CHECK(rows.device() == m.device(), "densify_rows: rows on ", rows.device().str(), " but the matrix on ",
              m.device().str(), "; move one of them");
  const int64_t b = rows.numel();
  Tensor out = Tensor::empty({b, m.cols}, DType::f32, m.device());
  const int64_t* rp = m.row_ptr.data<int64_t>();
  const int32_t* col = m.col.data<int32_t>();
  const float* val = m.val.data<float>();
  const int64_t* r = rows.data<int64_t>();
  float* o = out.data<float>();
  dispatch(
      "densify_rows", m.device(),
      [&] {
        for (int64_t k = 0; k < b; ++k) {
          CUREC_CHECK(r[k] >= 0 && r[k] < m.rows, "densify_rows: row ", r[k], " (position ", k, ") outside [0, ",
                      m.rows, ")");
          float* dst = o + k * m.cols;
          std::memset(dst, 0, static_cast<size_t>(m.cols) * sizeof(float));
          for (int64_t j = rp[r[k]]; j < rp[r[k] + 1]; ++j) dst[col[j]] = val[j];
        }
      },
      [&](int dev) { cuda::densify_rows(rp, col, val, m.rows, m.cols, r, b, o, dev); });
  return out;
}

}  // namespace curec::data
