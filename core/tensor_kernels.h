#pragma once
// The few device primitives the core itself needs: byte copies, fills and accumulation.
#include <cstddef>
#include <cstdint>

#include "core/device.h"

namespace curec {
class Tensor;

// Copies `bytes` between any two devices; a copy to the host waits for the device.
void copy_bytes(void* dst, Device dst_device, const void* src, Device src_device, size_t bytes);
void fill_f32(float* data, int64_t n, float value, Device device);
void fill_i64_iota(int64_t* data, int64_t n, Device device);
void fill_i32_iota(int32_t* data, int64_t n, Device device);
// dst += src for two f32 tensors of the same shape and device.
void accumulate_(Tensor& dst, const Tensor& src);

#if CUREC_WITH_CUDA
namespace cuda {
void fill_f32(float* data, int64_t n, float value, int device);
void iota_i64(int64_t* data, int64_t n, int device);
void iota_i32(int32_t* data, int64_t n, int device);
void add_inplace(float* dst, const float* src, int64_t n, int device);
void copy_bytes(void* dst, Device dst_device, const void* src, Device src_device, size_t bytes);
}  // namespace cuda
#endif
}  // namespace curec
