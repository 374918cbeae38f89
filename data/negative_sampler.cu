#include "core/cuda_context.h"
#include "data/negative_sampler.h"
#include "data/negative_sampler_math.h"

namespace curec::data::cuda {
namespace {

using curec::cuda::DeviceErrorFlag;

// One thread per negative; the same draw() as the CPU loop.
__global__ void sample_kernel(const int64_t* row_ptr, const int32_t* cols, int64_t num_users, int64_t num_items,
                              const void* users, bool users64, int64_t n, int64_t k, uint64_t seed, uint64_t epoch,
                              int64_t first, int64_t* out, DeviceErrorFlag* flag) {
  CUREC_GRID_LOOP(s, n * k) {
    int64_t i = s / k;
    int64_t u = users64 ? static_cast<const int64_t*>(users)[i] : static_cast<const int32_t*>(users)[i];
    if (u < 0 || u >= num_users) {
      if (s % k == 0) curec::cuda::raise_error(flag, curec::cuda::kIndexOutOfRange, u, num_users);
      out[s] = 0;
      continue;
    }
    int64_t b = row_ptr[u];
    out[s] = negative_math::draw(seed, epoch, cols + b, row_ptr[u + 1] - b, num_items,
                                 static_cast<uint64_t>(first * k + s));
  }
}

}  // namespace

void sample_negatives(const int64_t* row_ptr, const int32_t* cols, int64_t num_users, int64_t num_items,
                      const void* users, bool users64, int64_t n, int64_t k, uint64_t seed, uint64_t epoch,
                      int64_t first, int64_t* out, int device) {
  if (n * k == 0) return;
  curec::cuda::DeviceGuard guard(device);
  sample_kernel<<<curec::cuda::grid_for(n * k), 256, 0, curec::cuda::current_stream(device)>>>(
      row_ptr, cols, num_users, num_items, users, users64, n, k, seed, epoch, first, out,
      curec::cuda::device_error_flag(device));
  CUREC_KERNEL_CHECK();
}

}  // namespace curec::data::cuda
