#include <cstdint>

#include "core/cuda_context.h"
#include "data/take.h"

namespace curec::data::cuda {
namespace {

using curec::cuda::DeviceErrorFlag;

// One thread per word of the output; W is the widest word size that divides a row and both
// base pointers, so a row of 4-byte values moves as 4-byte (or 8-byte) words.
template <class W>
__global__ void take_rows_kernel(const W* src, int64_t rows, int64_t row_words, const void* indices, bool idx64,
                                 int64_t n, W* dst, DeviceErrorFlag* flag) {
  CUREC_GRID_LOOP(k, n * row_words) {
    int64_t i = k / row_words, w = k % row_words;
    int64_t r = idx64 ? static_cast<const int64_t*>(indices)[i] : static_cast<const int32_t*>(indices)[i];
    if (r < 0 || r >= rows) {
      if (w == 0) curec::cuda::raise_error(flag, curec::cuda::kIndexOutOfRange, r, rows);
      dst[k] = W{};
    } else {
      dst[k] = src[r * row_words + w];
    }
  }
}

template <class W>
void launch(const void* src, int64_t rows, int64_t row_bytes, const void* indices, bool idx64, int64_t n, void* dst,
            int device) {
  int64_t row_words = row_bytes / static_cast<int64_t>(sizeof(W));
  int64_t total = n * row_words;
  take_rows_kernel<W><<<curec::cuda::grid_for(total), 256, 0, curec::cuda::current_stream(device)>>>(
      static_cast<const W*>(src), rows, row_words, indices, idx64, n, static_cast<W*>(dst),
      curec::cuda::device_error_flag(device));
  CUREC_KERNEL_CHECK();
}

bool fits(int64_t row_bytes, const void* a, const void* b, size_t w) {
  return row_bytes % static_cast<int64_t>(w) == 0 && reinterpret_cast<uintptr_t>(a) % w == 0 &&
         reinterpret_cast<uintptr_t>(b) % w == 0;
}

}  // namespace

void take_rows(const void* src, int64_t rows, int64_t row_bytes, const void* indices, bool idx64, int64_t n,
               void* dst, int device) {
  if (n == 0 || row_bytes == 0) return;
  curec::cuda::DeviceGuard guard(device);
  if (fits(row_bytes, src, dst, 16))
    launch<uint4>(src, rows, row_bytes, indices, idx64, n, dst, device);
  else if (fits(row_bytes, src, dst, 8))
    launch<uint64_t>(src, rows, row_bytes, indices, idx64, n, dst, device);
  else if (fits(row_bytes, src, dst, 4))
    launch<uint32_t>(src, rows, row_bytes, indices, idx64, n, dst, device);
  else
    launch<uint8_t>(src, rows, row_bytes, indices, idx64, n, dst, device);
}

}  // namespace curec::data::cuda
