#include "core/cuda_context.h"
#include "core/tensor_kernels.h"

namespace curec::cuda {
namespace {
__global__ void fill_kernel(float* d, int64_t n, float v) {
  CUREC_GRID_LOOP(i, n) d[i] = v;
}
template <class T>
__global__ void iota_kernel(T* d, int64_t n) {
  CUREC_GRID_LOOP(i, n) d[i] = T(i);
}
__global__ void add_kernel(float* d, const float* s, int64_t n) {
  CUREC_GRID_LOOP(i, n) d[i] += s[i];
}
}  // namespace

void fill_f32(float* data, int64_t n, float value, int device) {
  if (n == 0) return;
  DeviceGuard g(device);
  fill_kernel<<<grid_for(n), 256, 0, current_stream(device)>>>(data, n, value);
  CUREC_KERNEL_CHECK();
}
void iota_i64(int64_t* data, int64_t n, int device) {
  if (n == 0) return;
  DeviceGuard g(device);
  iota_kernel<<<grid_for(n), 256, 0, current_stream(device)>>>(data, n);
  CUREC_KERNEL_CHECK();
}
void iota_i32(int32_t* data, int64_t n, int device) {
  if (n == 0) return;
  DeviceGuard g(device);
  iota_kernel<<<grid_for(n), 256, 0, current_stream(device)>>>(data, n);
  CUREC_KERNEL_CHECK();
}
void add_inplace(float* dst, const float* src, int64_t n, int device) {
  if (n == 0) return;
  DeviceGuard g(device);
  add_kernel<<<grid_for(n), 256, 0, current_stream(device)>>>(dst, src, n);
  CUREC_KERNEL_CHECK();
}

void copy_bytes(void* dst, Device dst_device, const void* src, Device src_device, size_t bytes) {
  int dev = dst_device.is_cuda() ? dst_device.index : src_device.index;
  DeviceGuard g(dev);
  cudaStream_t stream = current_stream(dev);
  if (dst_device.is_cuda() && src_device.is_cuda()) {
    if (dst_device.index == src_device.index) {
      CUREC_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, stream));
    } else {
      // Order after the source's work, then copy peer to peer on the destination's stream.
      CUREC_CUDA_CHECK(cudaStreamSynchronize(current_stream(src_device.index)));
      CUREC_CUDA_CHECK(cudaMemcpyPeerAsync(dst, dst_device.index, src, src_device.index, bytes, stream));
      // The source's block goes back to its own stream's pool once the caller drops it: hold that
      // stream behind the copy, or the next allocation there could overwrite what is still being read.
      cudaEvent_t copied;
      CUREC_CUDA_CHECK(cudaEventCreateWithFlags(&copied, cudaEventDisableTiming));
      CUREC_CUDA_CHECK(cudaEventRecord(copied, stream));
      CUREC_CUDA_CHECK(cudaStreamWaitEvent(current_stream(src_device.index), copied, 0));
      CUREC_CUDA_CHECK(cudaEventDestroy(copied));  // deferred by CUDA until the event completes
    }
  } else if (dst_device.is_cuda()) {
    CUREC_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, stream));
    // The host buffer may be freed as soon as we return: wait for pageable sources.
    CUREC_CUDA_CHECK(cudaStreamSynchronize(stream));
  } else {
    CUREC_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, stream));
    CUREC_CUDA_CHECK(cudaStreamSynchronize(stream));
    check_device_errors(dev);
  }
}

}  // namespace curec::cuda
