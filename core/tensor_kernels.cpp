#include "core/tensor_kernels.h"

#include <cstring>

#include "core/dispatch.h"
#include "core/parallel.h"
#include "core/tensor.h"

namespace curec {

void copy_bytes(void* dst, Device dst_device, const void* src, Device src_device, size_t bytes) {
  if (bytes == 0) return;
  // Any copy that touches a CUDA device is the CUDA runtime's.
  dispatch("copy", dst_device.is_cuda() ? dst_device : src_device, [&] { std::memcpy(dst, src, bytes); },
           [&](int) { cuda::copy_bytes(dst, dst_device, src, src_device, bytes); });
}

void fill_f32(float* data, int64_t n, float value, Device device) {
  dispatch(
      "fill", device,
      [&] {
        parallel_for(0, n, kCpuGrain * 4, [&](int64_t b, int64_t e) {
          for (int64_t i = b; i < e; ++i) data[i] = value;
        });
      },
      [&](int dev) { cuda::fill_f32(data, n, value, dev); });
}

void zero_host_bytes(void* data, size_t bytes) {
  char* p = static_cast<char*>(data);
  parallel_for(0, static_cast<int64_t>(bytes), kCpuGrain * 16, [&](int64_t b, int64_t e) {
    std::memset(p + b, 0, static_cast<size_t>(e - b));
  });
}

void fill_i64_iota(int64_t* data, int64_t n, Device device) {
  dispatch(
      "iota", device, [&] { for (int64_t i = 0; i < n; ++i) data[i] = i; },
      [&](int dev) { cuda::iota_i64(data, n, dev); });
}

void fill_i32_iota(int32_t* data, int64_t n, Device device) {
  dispatch(
      "iota", device, [&] { for (int64_t i = 0; i < n; ++i) data[i] = static_cast<int32_t>(i); },
      [&](int dev) { cuda::iota_i32(data, n, dev); });
}

void accumulate_(Tensor& dst, const Tensor& src) {
  CUREC_CHECK(dst.shape() == src.shape() && dst.dtype() == DType::f32 && src.dtype() == DType::f32,
              "gradient accumulation: ", dst.str(), " += ", src.str(), " needs equal f32 shapes");
  check_same_device("gradient accumulation", dst, src);
  float* d = dst.data<float>();
  const float* s = src.data<float>();
  const int64_t n = dst.numel();
  dispatch(
      "gradient accumulation", dst.device(),
      [&] {
        parallel_for(0, n, kCpuGrain, [&](int64_t b, int64_t e) {
          for (int64_t i = b; i < e; ++i) d[i] += s[i];
        });
      },
      [&](int dev) { cuda::add_inplace(d, s, n, dev); });
}

void scale_copy(float* dst, const float* src, int64_t n, float w, Device device) {
  if (n <= 0) return;
  if (w == 1.0f) return copy_bytes(dst, device, src, device, static_cast<size_t>(n) * sizeof(float));
  dispatch(
      "scale_copy", device,
      [&] {
        parallel_for(0, n, kCpuGrain, [&](int64_t b, int64_t e) {
          for (int64_t i = b; i < e; ++i) dst[i] = w * src[i];
        });
      },
      [&](int dev) { cuda::scale_copy(dst, src, n, w, dev); });
}

}  // namespace curec
