#include "nn/sparse_rows.cuh"

namespace curec::nn::cuda {

SortedRows::SortedRows(const int64_t* indices, int64_t n, int64_t table_rows, const float* grad_rows, int64_t width,
                       int device)
    : SortedRuns(indices, true, n, table_rows, device) {
  sum(grad_rows, width);
}

}  // namespace curec::nn::cuda
