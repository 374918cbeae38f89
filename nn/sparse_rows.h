#pragma once
// Coalescing a row-sparse gradient (indices i64 [n] that may repeat, rows f32 [n, width]) into
// one summed gradient per touched row, for the lazy optimizer updates.
//
// Both backends coalesce by a stable sort of (row id, position) pairs and sum each run of equal
// ids in position order. Chosen over scattering into a dense per-parameter scratch with
// touched-row flags: the sort costs O(n log n) in the touched entries only, needs no
// table-sized scratch or clean-up pass, uses no float atomics (so CPU and CUDA sum in the same
// order and the update is reproducible run to run), and the CUDA path gets the sort from cub.
#include <algorithm>
#include <cstdint>
#include <vector>

#include "core/parallel.h"
#include "core/prefetch.h"
#include "core/tensor.h"

namespace curec::nn {

// Positions 0..n-1 ordered by (indices[pos], pos), the start of each run of equal ids (run r is
// order[starts[r] .. starts[r + 1])) and each run's id. An id outside [0, table_rows) is an error.
struct RowRuns {
  std::vector<int64_t> order;
  std::vector<int64_t> starts;
  std::vector<int64_t> ids;
  size_t runs() const { return starts.empty() ? 0 : starts.size() - 1; }
};
RowRuns group_rows(const int64_t* indices, int64_t n, int64_t table_rows, const char* op);

// Calls f(row, summed) once per touched row, where summed[c] (c < width) is the sum of the
// gradient rows naming `row`, in position order. Rows are spread over the CPU threads
// (core/parallel.h): f runs concurrently for different rows, so it may write only that row's
// state. ahead(row) is called a few rows before f(row, ...) on the same thread, for f to prefetch
// the row's state. CPU tensors only.
template <class F, class Ahead>
void for_each_coalesced_row(const Tensor& indices, const Tensor& rows, int64_t table_rows, const char* op, F&& f,
                            Ahead&& ahead) {
  const float* g = rows.data<float>();
  int64_t n = indices.numel();
  int64_t width = n ? rows.numel() / n : 0;
  RowRuns runs = group_rows(indices.data<int64_t>(), n, table_rows, op);
  // An update costs a few operations per element: pieces of a few thousand elements.
  const int64_t grain = std::max<int64_t>(1, kCpuGrain / 4 / std::max<int64_t>(width, 1));
  const int64_t total_runs = static_cast<int64_t>(runs.runs());
  parallel_for(0, total_runs, grain, [&](int64_t rb, int64_t re) {
    std::vector<float> sum(static_cast<size_t>(width));
    for (int64_t r = rb; r < re; ++r) {
      // The gradient rows of a run lie anywhere in `rows`: fetch those of a later run meanwhile.
      if (r + kPrefetchAhead < re) {
        for (int64_t k = runs.starts[r + kPrefetchAhead]; k < runs.starts[r + kPrefetchAhead + 1]; ++k)
          prefetch_bytes(g + runs.order[k] * width, static_cast<size_t>(width) * sizeof(float));
        ahead(runs.ids[r + kPrefetchAhead]);
      }
      const int64_t first = runs.order[runs.starts[r]];
      for (int64_t c = 0; c < width; ++c) sum[c] = g[first * width + c];
      for (int64_t k = runs.starts[r] + 1; k < runs.starts[r + 1]; ++k)
        for (int64_t c = 0; c < width; ++c) sum[c] += g[runs.order[k] * width + c];
      f(runs.ids[r], sum.data());
    }
  });
}

}  // namespace curec::nn
