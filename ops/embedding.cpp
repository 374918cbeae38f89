#include "ops/embedding.h"

#include <algorithm>
#include <cstring>

#include "core/autograd.h"
#include "core/checked.h"
#include "core/dispatch.h"
#include "core/parallel.h"
#include "core/prefetch.h"

namespace curec {
namespace {

void check_indices(const char* op, const Tensor& table, const Tensor& indices) {
  check_defined(op, table, "table");
  check_defined(op, indices, "indices");
  check_dtype(op, table, DType::f32, "table");
  CUREC_CHECK(indices.dtype() == DType::i32 || indices.dtype() == DType::i64, op, ": indices must be i32 or i64, got ",
              indices.str(), "; convert the ids to an integer tensor");
  check_same_device(op, table, indices);
  CUREC_CHECK(table.dim() >= 1, op, ": the table must have at least one dimension, got ", table.str());
}

// Elements per table row (the product of the trailing dimensions).
int64_t row_width(const Shape& table_shape) {
  return shape_numel(Shape(table_shape.begin() + 1, table_shape.end()));
}

template <class I>
int64_t checked_id(const char* op, const I* ids, int64_t i, const Tensor& indices, int64_t rows) {
  int64_t id = static_cast<int64_t>(ids[i]);
  CUREC_CHECK(id >= 0 && id < rows, op, ": index ", id, " at position ", i, " of indices ", indices.str(),
              " is out of range for a table of ", rows, " rows; ids must lie in [0, ", rows, ")");
  return id;
}

template <class I>
void check_all_ids(const char* op, const Tensor& indices, int64_t rows) {
  const I* ids = indices.data<I>();
  for (int64_t i = 0, n = indices.numel(); i < n; ++i) checked_id(op, ids, i, indices, rows);
}

// Rows per parallel piece of a loop that moves rows of `width` floats.
int64_t row_grain(int64_t width) { return std::max<int64_t>(1, kCpuGrain / std::max<int64_t>(width, 1)); }

template <class I>
void gather_cpu(const char* op, const Tensor& table, const Tensor& indices, Tensor& out) {
  const int64_t width = row_width(table.shape()), n = indices.numel();
  check_all_ids<I>(op, indices, table.size(0));  // first, so the first bad position is the one named
  const I* ids = indices.data<I>();
  const float* src = table.data<float>();
  float* dst = out.data<float>();
  parallel_for(0, n, row_grain(width), [&](int64_t b, int64_t e) {
    const size_t row_bytes = static_cast<size_t>(width) * sizeof(float);
    for (int64_t i = b; i < e; ++i) {
      if (i + kPrefetchAhead < e) prefetch_bytes(src + static_cast<int64_t>(ids[i + kPrefetchAhead]) * width, row_bytes);
      std::memcpy(dst + i * width, src + static_cast<int64_t>(ids[i]) * width, row_bytes);
    }
  });
}

// Sums in position order; the deterministic CUDA path reproduces exactly this order.
template <class I>
void scatter_cpu(const Tensor& grad, const Tensor& indices, Tensor& table_grad) {
  const int64_t rows = table_grad.size(0), width = row_width(table_grad.shape()), n = indices.numel();
  check_all_ids<I>("embedding backward", indices, rows);
  const I* ids = indices.data<I>();
  const float* g = grad.data<float>();
  float* dst = table_grad.data<float>();
  auto add_rows = [&](int64_t lo, int64_t hi) {
    for (int64_t i = 0; i < n; ++i) {
      const int64_t id = static_cast<int64_t>(ids[i]);
      if (id < lo || id >= hi) continue;
      float* row = dst + id * width;
      const float* grow = g + i * width;
      for (int64_t c = 0; c < width; ++c) row[c] += grow[c];
    }
  };
  // One thread: threads owning row ranges (each scanning every id) measured slower with 2
  // threads than with 1 (bench_cpu_threads).
  add_rows(0, rows);
}

// The ids as an i64 [n] tensor of their own (the caller's buffer may be reused by a loader).
Tensor flat_i64_copy(const Tensor& indices) {
  const int64_t n = indices.numel();
  if (indices.dtype() == DType::i64) return indices.clone().view({n});
  Tensor out = Tensor::empty({n}, DType::i64, indices.device());
  const int32_t* src = indices.data<int32_t>();
  int64_t* dst = out.data<int64_t>();
  dispatch(
      "embedding", indices.device(),
      [&] {
        parallel_for(0, n, kCpuGrain, [&](int64_t b, int64_t e) {
          for (int64_t i = b; i < e; ++i) dst[i] = src[i];
        });
      },
      [&](int dev) { cuda::widen_indices(src, dst, n, dev); });
  return out;
}

}  // namespace

Tensor gather_rows(const Tensor& table, const Tensor& indices, const char* op) {
  check_indices(op, table, indices);
  Shape out_shape = indices.shape();
  out_shape.insert(out_shape.end(), table.shape().begin() + 1, table.shape().end());
  Tensor out = Tensor::empty(out_shape, DType::f32, table.device());
  const bool idx64 = indices.dtype() == DType::i64;
  dispatch(
      op, table.device(),
      [&] {
        if (idx64) gather_cpu<int64_t>(op, table, indices, out);
        else gather_cpu<int32_t>(op, table, indices, out);
      },
      [&](int dev) {
        cuda::embedding_gather(table.data<float>(), table.size(0), row_width(table.shape()), indices.raw_data(),
                               idx64, indices.numel(), out.data<float>(), dev);
      });
  return out;
}

Tensor scatter_add_rows(const Tensor& grad, const Tensor& indices, const Shape& table_shape, bool deterministic) {
  const int64_t n = indices.numel(), width = row_width(table_shape);
  CUREC_CHECK(grad.numel() == checked_mul(n, width, "embedding backward: ids times row width"),
              "embedding backward: gradient ", grad.str(), " does not match ", n,
              " ids of rows of ", width, " elements");
  Tensor table_grad = Tensor::zeros(table_shape, DType::f32, grad.device());
  const bool idx64 = indices.dtype() == DType::i64;
  // The CPU scatter is always deterministic (one thread per row, positions in order).
  dispatch(
      "embedding backward", grad.device(),
      [&] {
        if (idx64) scatter_cpu<int64_t>(grad, indices, table_grad);
        else scatter_cpu<int32_t>(grad, indices, table_grad);
      },
      [&](int dev) {
        if (deterministic)
          cuda::embedding_scatter_sorted(grad.data<float>(), indices.raw_data(), idx64, n, width,
                                         table_grad.data<float>(), table_shape[0], dev);
        else
          cuda::embedding_scatter_atomic(grad.data<float>(), indices.raw_data(), idx64, n, width,
                                         table_grad.data<float>(), table_shape[0], dev);
      });
  return table_grad;
}

Tensor embedding(const Tensor& table, const Tensor& indices, const EmbeddingOptions& options) {
  check_defined("embedding", table, "table");
  CUREC_CHECK(table.dim() == 2, "embedding: the table must be [rows, dim], got ", table.str(),
              "; use index_select for tables of other ranks");
  Tensor out = gather_rows(table, indices, "embedding");
  const Shape table_shape = table.shape();
  return record(out, "embedding", {table}, [=](const Tensor& g) -> std::vector<Grad> {
    if (options.sparse_grad) {
      const int64_t n = indices.numel();
      return {Grad::sparse(flat_i64_copy(indices), g.clone().view({n, table_shape[1]}))};
    }
    return {scatter_add_rows(g, indices, table_shape, options.deterministic)};
  });
}

}  // namespace curec
