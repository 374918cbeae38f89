#pragma once
// The few device primitives the core itself needs: byte copies, fills and accumulation.
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "core/device.h"
#include "core/dispatch.h"

namespace curec {
class Tensor;

// Copies `bytes` between any two devices. A copy to the host waits for the device; a copy from
// pageable host memory to a device does not (the source may be reused once it returns); a copy
// from pinned host memory waits, since the device reads it later. Device-to-device copies are
// ordered on the streams, without a host wait.
void copy_bytes(void* dst, Device dst_device, const void* src, Device src_device, size_t bytes);
void fill_f32(float* data, int64_t n, float value, Device device);
void fill_i64_iota(int64_t* data, int64_t n, Device device);
void fill_i32_iota(int32_t* data, int64_t n, Device device);
// dst += src for two f32 tensors of the same shape and device.
void accumulate_(Tensor& dst, const Tensor& src);
// dst[i] = w * src[i] for i < n on `device` (its current stream); w == 1 copies. The gradient
// exchange weights each rank's gradient with it.
void scale_copy(float* dst, const float* src, int64_t n, float w, Device device);

namespace cuda {
void zero_bytes(void* data, size_t bytes, int device);  // cudaMemsetAsync on the current stream
void fill_f32(float* data, int64_t n, float value, int device);
void iota_i64(int64_t* data, int64_t n, int device);
void iota_i32(int32_t* data, int64_t n, int device);
void add_inplace(float* dst, const float* src, int64_t n, int device);
void scale_copy(float* dst, const float* src, int64_t n, float w, int device);
void copy_bytes(void* dst, Device dst_device, const void* src, Device src_device, size_t bytes);
}  // namespace cuda

// memset, split over the CPU threads when large (a dense gradient of a big table each step).
void zero_host_bytes(void* data, size_t bytes);

// Sets `bytes` bytes to zero: memset on the CPU, cudaMemsetAsync on the device's current stream
// (no host copy, no wait). Tensor::zero_ of every dtype should use this.
inline void zero_bytes(void* data, size_t bytes, Device device) {
  if (bytes == 0) return;
  dispatch("zero", device, [&] { zero_host_bytes(data, bytes); }, [&](int dev) { cuda::zero_bytes(data, bytes, dev); });
}

}  // namespace curec
