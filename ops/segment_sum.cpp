#include "ops/segment_sum.h"

#include <algorithm>
#include <numeric>
#include <vector>

#include "core/dispatch.h"
#include "core/error.h"
#include "ops/segment_sum_math.h"

namespace curec {
namespace {

// What the CUDA sort-and-sum does, on the host: a stable sort of (id, position), run heads by
// the same binary search, then every level of segment_sum::sum_level for every (slot, column).
template <class I>
void segment_sum_cpu(const I* ids, int64_t n, int64_t rows, const float* values, int64_t width, int64_t* keys,
                     float* out) {
  for (int64_t i = 0; i < n; ++i)
    CUREC_CHECK(ids[i] >= 0 && ids[i] < rows, "segment_sum_rows: id ", static_cast<int64_t>(ids[i]), " at position ",
                i, " outside [0, ", rows, ")");
  std::vector<int64_t> pos(static_cast<size_t>(n));
  std::iota(pos.begin(), pos.end(), int64_t{0});
  std::stable_sort(pos.begin(), pos.end(), [&](int64_t a, int64_t b) { return ids[a] < ids[b]; });
  for (int64_t s = 0; s < n; ++s) keys[s] = ids[pos[s]];
  std::vector<int64_t> heads(static_cast<size_t>(n));
  for (int64_t s = 0; s < n; ++s) heads[s] = segment_sum::run_head(keys, s);
  std::vector<float> sums(static_cast<size_t>(n * width));
  int64_t stride = 1;
  for (int l = 0; l < segment_sum::levels(n); ++l, stride *= segment_sum::kPiece)
    for (int64_t s = 0; s < n; ++s)
      for (int64_t c = 0; c < width; ++c)
        segment_sum::sum_level(keys, heads.data(), pos.data(), values, sums.data(), n, width, rows, stride, s, c);
  for (int64_t j = 0; j < n; ++j) {
    const bool head = segment_sum::starts_run(keys, j, rows);
    for (int64_t c = 0; c < width; ++c) out[j * width + c] = head ? sums[j * width + c] : 0.0f;
  }
}

}  // namespace

SegmentSums segment_sum_rows(const Tensor& ids, const Tensor& values, int64_t rows) {
  constexpr const char* kOp = "segment_sum_rows";
  check_defined(kOp, ids, "ids");
  check_defined(kOp, values, "values");
  check_same_device(kOp, ids, values);
  check_dtype(kOp, values, DType::f32, "values");
  CUREC_CHECK(ids.dtype() == DType::i32 || ids.dtype() == DType::i64, kOp, ": ids must be i32 or i64, got ",
              ids.str());
  CUREC_CHECK(ids.dim() == 1 && values.dim() == 2 && values.size(0) == ids.size(0), kOp,
              ": needs ids [n] and values [n, width], got ", ids.str(), " and ", values.str());
  const int64_t n = ids.size(0), width = values.size(1);
  SegmentSums r{Tensor::empty({n}, DType::i64, ids.device()), Tensor::empty({n, width}, DType::f32, ids.device())};
  if (n == 0) return r;
  const bool idx64 = ids.dtype() == DType::i64;
  int64_t* keys = r.keys.data<int64_t>();
  float* sums = r.sums.data<float>();
  dispatch(
      kOp, ids.device(),
      [&] {
        if (idx64) segment_sum_cpu(ids.data<int64_t>(), n, rows, values.data<float>(), width, keys, sums);
        else segment_sum_cpu(ids.data<int32_t>(), n, rows, values.data<float>(), width, keys, sums);
      },
      [&](int dev) {
        cuda::segment_sum_rows(ids.raw_data(), idx64, n, rows, values.data<float>(), width, keys, sums, dev);
      });
  return r;
}

}  // namespace curec
