#include "nn/clip_grad.h"
#include "nn/optim_math.h"
#include "nn/sparse_rows.cuh"

namespace curec::nn::cuda {
namespace {

// One thread per sorted slot: a run's first slot squares its summed row.
__global__ void run_squares_kernel(const int64_t* keys, const float* sums, int64_t n, int64_t width,
                                   int64_t table_rows, float* out) {
  CUREC_GRID_LOOP(j, n) {
    float sq = 0.0f, g;
    for (int64_t c = 0; c < width; ++c)
      if (run_sum(keys, sums, j, width, c, table_rows, &g)) sq += g * g;
    out[j] = sq;
  }
}

__global__ void clip_finish_kernel(const float* squares, int64_t count, float max_norm, float* norm, float* scale) {
  float total = 0.0f;
  for (int64_t i = 0; i < count; ++i) total += squares[i];
  *norm = sqrtf(total);
  *scale = optim::clip_factor(*norm, max_norm, kClipEps);
}

}  // namespace

void sparse_run_squares(const int64_t* indices, const float* grad_rows, int64_t n, int64_t table_rows, int64_t width,
                        float* out, int device) {
  if (!n) return;
  curec::cuda::DeviceGuard guard(device);
  SortedRows sorted(indices, n, table_rows, grad_rows, width, device);
  run_squares_kernel<<<curec::cuda::grid_for(n), 256, 0, curec::cuda::current_stream(device)>>>(
      sorted.keys(), sorted.sums(), n, width, table_rows, out);
  CUREC_KERNEL_CHECK();
}

void clip_finish(const float* squares, int64_t count, float max_norm, float* norm, float* scale, int device) {
  curec::cuda::DeviceGuard guard(device);
  clip_finish_kernel<<<1, 1, 0, curec::cuda::current_stream(device)>>>(squares, count, max_norm, norm, scale);
  CUREC_KERNEL_CHECK();
}

}  // namespace curec::nn::cuda
