#include "nn/sgd.h"
#include "nn/sparse_rows.cuh"

namespace curec::nn::cuda {
namespace {

__global__ void sgd_dense_kernel(float* w, float* v, const float* g, int64_t n, optim::SgdHyper h,
                                 const float* scale) {
  CUREC_GRID_LOOP(i, n) optim::sgd_update(w + i, v ? v + i : nullptr, optim::scaled(g[i], scale), h);
}

// One thread per (sorted slot, column); the thread at the start of a run applies its row's
// summed gradient, the others exit.
__global__ void sgd_sparse_kernel(float* w, float* v, int64_t table_rows, int64_t width, const int64_t* keys,
                                  const float* sums, int64_t n, optim::SgdHyper h, const float* scale) {
  CUREC_GRID_LOOP(e, n * width) {
    int64_t j = e / width, c = e % width;
    float g;
    if (!run_sum(keys, sums, j, width, c, table_rows, &g)) continue;
    int64_t k = keys[j] * width + c;
    optim::sgd_update(w + k, v ? v + k : nullptr, optim::scaled(g, scale), h);
  }
}

}  // namespace

void sgd_dense(float* w, float* velocity, const float* grad, int64_t n, const optim::SgdHyper& h, const float* scale,
               int device) {
  if (!n) return;
  curec::cuda::DeviceGuard guard(device);
  sgd_dense_kernel<<<curec::cuda::grid_for(n), 256, 0, curec::cuda::current_stream(device)>>>(w, velocity, grad, n, h,
                                                                                              scale);
  CUREC_KERNEL_CHECK();
}

void sgd_sparse(float* w, float* velocity, int64_t table_rows, int64_t width, const int64_t* indices,
                const float* grad_rows, int64_t n, const optim::SgdHyper& h, const float* scale, int device) {
  if (!n || !width) return;
  curec::cuda::DeviceGuard guard(device);
  SortedRows sorted(indices, n, table_rows, grad_rows, width, device);
  int64_t total = n * width;
  sgd_sparse_kernel<<<curec::cuda::grid_for(total), 256, 0, curec::cuda::current_stream(device)>>>(
      w, velocity, table_rows, width, sorted.keys(), sorted.sums(), n, h, scale);
  CUREC_KERNEL_CHECK();
}

}  // namespace curec::nn::cuda
