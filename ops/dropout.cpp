#include "ops/dropout.h"

#include "core/autograd.h"
#include "core/dispatch.h"
#include "core/parallel.h"

namespace curec {
namespace {

thread_local int64_t g_rows_first = 0, g_rows_total = 0;  // total 0: no DropoutRows scope

// The same mask for the forward (on x) and the backward (on the output gradient): x as
// [rows, width], row r drawing from counters offset + (first_row + r) * ceil(width / 4) onwards.
// On the CPU, `keep` (when given, x.numel() bytes) receives the mask, so that the backward
// reads it instead of drawing it again (the draws cost ~4x a multiply); CUDA draws it again.
Tensor apply_mask(const Tensor& x, int64_t rows, int64_t first_row, float p, float scale, uint64_t seed,
                  uint64_t offset, uint8_t* keep = nullptr) {
  Tensor y = Tensor::empty(x.shape(), DType::f32, x.device());
  const int64_t width = rows ? x.numel() / rows : 0;
  const float* px = x.data<float>();
  float* py = y.data<float>();
  dispatch(
      "dropout", x.device(),
      [&] {
        const auto per_row = static_cast<int64_t>(philox::uniform_counters(static_cast<uint64_t>(width)));
        // Over the (row, counter) pairs: every element's draw is fixed by its counter, so the
        // pool's pieces do not change the mask. A Philox call and four elements are ~16 simple
        // operations.
        parallel_for(0, rows * per_row, kCpuGrain / 16, [&](int64_t first, int64_t last) {
          for (int64_t t = first; t < last; ++t) {
            const int64_t r = t / per_row, q = t % per_row;
            // One Philox call gives the draws of four consecutive elements of the row.
            philox::U32x4 b = philox::bits(seed, offset + static_cast<uint64_t>((first_row + r) * per_row + q));
            for (int k = 0; k < 4 && q * 4 + k < width; ++k) {
              const int64_t i = r * width + q * 4 + k;
              const float u = philox::to_unit(b.v[k]);
              py[i] = dropout_math::apply(px[i], u, p, scale);
              if (keep) keep[i] = u >= p;  // what apply keeps
            }
          }
        });
      },
      [&](int dev) { cuda::dropout_apply(px, py, rows, width, first_row, p, scale, seed, offset, dev); });
  return y;
}

// The backward on the CPU from the forward's mask: exactly apply_mask's values on g.
Tensor apply_kept(const Tensor& g, const Tensor& keep, float scale) {
  Tensor out = Tensor::empty(g.shape(), DType::f32, g.device());
  const float* pg = g.data<float>();
  const auto* pk = static_cast<const uint8_t*>(keep.raw_data());
  float* po = out.data<float>();
  parallel_for(0, g.numel(), kCpuGrain, [&](int64_t first, int64_t last) {
    for (int64_t i = first; i < last; ++i) po[i] = pk[i] ? pg[i] * scale : 0.0f;
  });
  return out;
}

}  // namespace

DropoutRows::DropoutRows(int64_t first, int64_t total) : saved_first_(g_rows_first), saved_total_(g_rows_total) {
  CUREC_CHECK(first >= 0 && total > first, "DropoutRows: rows from ", first, " of a batch of ", total,
              " do not fit it");
  g_rows_first = first;
  g_rows_total = total;
}

DropoutRows::~DropoutRows() {
  g_rows_first = saved_first_;
  g_rows_total = saved_total_;
}

DropoutRowRange dropout_row_range(int64_t rows) {
  if (g_rows_total == 0) return {0, rows};
  CUREC_CHECK(g_rows_first + rows <= g_rows_total, "dropout: rows ", g_rows_first, "..", g_rows_first + rows,
              " overrun the batch of ", g_rows_total, " rows its DropoutRows scope names");
  return {g_rows_first, g_rows_total};
}

Tensor dropout(const Tensor& x, float p, bool training, Generator& gen) {
  check_defined("dropout", x, "input");
  check_dtype("dropout", x, DType::f32, "input");
  CUREC_CHECK(p >= 0.0f && p < 1.0f, "dropout: drop probability p = ", p,
              " must lie in [0, 1); p = 1 would drop everything and divide by zero");
  if (!training || p == 0.0f) return x;
  // Inside a DropoutRows scope the rows are a shard of a batch; otherwise the tensor is one row.
  const bool keyed = g_rows_total > 0 && x.dim() >= 1 && x.size(0) > 0;
  const int64_t rows = keyed ? x.size(0) : 1, first = keyed ? g_rows_first : 0;
  const int64_t total_rows = keyed ? g_rows_total : 1;
  CUREC_CHECK(first + rows <= total_rows, "dropout: rows ", first, "..", first + rows, " of an input ", x.str(),
              " overrun the batch of ", total_rows, " rows its DropoutRows scope names");
  const uint64_t per_row = philox::uniform_counters(static_cast<uint64_t>(x.numel() / rows));
  const uint64_t offset = gen.advance(per_row * static_cast<uint64_t>(total_rows));
  const uint64_t seed = gen.seed();
  const float scale = 1.0f / (1.0f - p);
  const bool keep_mask = !x.is_cuda() && any_requires_grad({x});
  Tensor keep = keep_mask ? Tensor::empty({x.numel()}, DType::u8, x.device()) : Tensor();
  Tensor y = apply_mask(x, rows, first, p, scale, seed, offset,
                        keep_mask ? static_cast<uint8_t*>(keep.raw_data()) : nullptr);
  return record(y, "dropout", {x}, [=](const Tensor& g) -> std::vector<Grad> {
    if (keep.defined()) return {apply_kept(g, keep, scale)};
    return {apply_mask(g, rows, first, p, scale, seed, offset)};
  });
}

}  // namespace curec
