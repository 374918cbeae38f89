#include <cmath>

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
__global__ void scale_copy_kernel(float* d, const float* s, int64_t n, float w) {
  CUREC_GRID_LOOP(i, n) d[i] = __fmul_rn(w, s[i]);  // rounded as the CPU's w * s[i] (no FMA)
}
}  // namespace

void fill_f32(float* data, int64_t n, float value, int device) {
  if (n == 0) return;
  DeviceGuard g(device);
  if (value == 0.0f && !std::signbit(value)) {  // +0.0f is all zero bytes
    CUREC_CUDA_CHECK(cudaMemsetAsync(data, 0, static_cast<size_t>(n) * sizeof(float), current_stream(device)));
    return;
  }
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

void scale_copy(float* dst, const float* src, int64_t n, float w, int device) {
  if (n == 0) return;
  DeviceGuard g(device);
  scale_copy_kernel<<<grid_for(n), 256, 0, current_stream(device)>>>(dst, src, n, w);
  CUREC_KERNEL_CHECK();
}

void zero_bytes(void* data, size_t bytes, int device) {
  if (bytes == 0) return;
  DeviceGuard g(device);
  CUREC_CUDA_CHECK(cudaMemsetAsync(data, 0, bytes, current_stream(device)));
}

namespace {
// Whether `p` is page-locked host memory (cudaHostAlloc'd or registered), not plain pageable memory.
bool is_pinned(const void* p) {
  cudaPointerAttributes a{};
  if (cudaPointerGetAttributes(&a, p) != cudaSuccess) {
    cudaGetLastError();  // an unknown pointer is plain host memory
    return false;
  }
  return a.type == cudaMemoryTypeHost;
}
}  // namespace

void copy_bytes(void* dst, Device dst_device, const void* src, Device src_device, size_t bytes) {
  int dev = dst_device.is_cuda() ? dst_device.index : src_device.index;
  DeviceGuard g(dev);
  cudaStream_t stream = current_stream(dev);
  if (dst_device.is_cuda() && src_device.is_cuda()) {
    if (dst_device.index == src_device.index) {
      CUREC_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, stream));
    } else {
      // Order the copy after the source's work (an event, no host wait), then copy peer to peer
      // on the destination's stream.
      cudaStream_t src_stream = current_stream(src_device.index);
      cudaEvent_t ready;
      {
        DeviceGuard sg(src_device.index);  // an event is recorded on a stream of its own device
        CUREC_CUDA_CHECK(cudaEventCreateWithFlags(&ready, cudaEventDisableTiming));
        CUREC_CUDA_CHECK(cudaEventRecord(ready, src_stream));
      }
      CUREC_CUDA_CHECK(cudaStreamWaitEvent(stream, ready, 0));
      CUREC_CUDA_CHECK(cudaEventDestroy(ready));  // deferred by CUDA until the event completes
      CUREC_CUDA_CHECK(cudaMemcpyPeerAsync(dst, dst_device.index, src, src_device.index, bytes, stream));
      // The source's block goes back to its own stream's pool once the caller drops it: hold that
      // stream behind the copy, or the next allocation there could overwrite what is still being read.
      cudaEvent_t copied;
      CUREC_CUDA_CHECK(cudaEventCreateWithFlags(&copied, cudaEventDisableTiming));
      CUREC_CUDA_CHECK(cudaEventRecord(copied, stream));
      CUREC_CUDA_CHECK(cudaStreamWaitEvent(src_stream, copied, 0));
      CUREC_CUDA_CHECK(cudaEventDestroy(copied));
    }
  } else if (dst_device.is_cuda()) {
    CUREC_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, stream));
    // No wait for a pageable source: cudaMemcpyAsync has staged it before returning, so the
    // caller may free or reuse it at once. A pinned source is read by the DMA engine later, when
    // the stream reaches the copy; the caller may not know that, so wait (and count it).
    if (is_pinned(src)) {
      count_host_sync(dev);
      CUREC_CUDA_CHECK(cudaStreamSynchronize(stream));
    }
  } else {
    count_host_sync(dev);
    CUREC_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, stream));
    CUREC_CUDA_CHECK(cudaStreamSynchronize(stream));
    check_device_errors(dev);
  }
}

}  // namespace curec::cuda
