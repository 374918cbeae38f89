#include "core/cuda_context.h"
#include "data/densify.h"

namespace curec::data::cuda {
namespace {

// Block k owns output row k: its threads zero the row, then scatter the row's nonzeros. The
// columns within a CSR row are distinct, so the scatter needs no atomics.
__global__ void densify_rows_kernel(const int64_t* row_ptr, const int32_t* col, const float* val, int64_t num_rows,
                                    int64_t cols, const int64_t* rows, int64_t b, float* out,
                                    curec::cuda::DeviceErrorFlag* flag) {
  for (int64_t k = blockIdx.x; k < b; k += gridDim.x) {
    float* dst = out + k * cols;
    for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) dst[c] = 0.0f;
    __syncthreads();
    const int64_t r = rows[k];
    if (r < 0 || r >= num_rows) {
      if (threadIdx.x == 0) curec::cuda::raise_error(flag, curec::cuda::kIndexOutOfRange, r, num_rows);
    } else {
      for (int64_t j = row_ptr[r] + threadIdx.x; j < row_ptr[r + 1]; j += blockDim.x) dst[col[j]] = val[j];
    }
    __syncthreads();
  }
}

}  // namespace

void densify_rows(const int64_t* row_ptr, const int32_t* col, const float* val, int64_t num_rows, int64_t cols,
                  const int64_t* rows, int64_t b, float* out, int device) {
  if (b == 0) return;
  curec::cuda::DeviceGuard guard(device);
  const unsigned blocks = static_cast<unsigned>(b < 65535LL * 16 ? b : 65535LL * 16);
  densify_rows_kernel<<<blocks, 256, 0, curec::cuda::current_stream(device)>>>(
      row_ptr, col, val, num_rows, cols, rows, b, out, curec::cuda::device_error_flag(device));
  CUREC_KERNEL_CHECK();
}

}  // namespace curec::data::cuda
