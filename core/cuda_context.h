#pragma once
// Per-device CUDA state: the current stream, library handles bound to it, and the device
// error flag that kernels raise instead of reading out of bounds. CUDA builds only.
#include <cstdint>
#include <string>

#include "core/cuda_check.h"

namespace curec::cuda {

// Usable CUDA devices; 0 where the driver reports none or cudaGetDeviceCount fails. The failure
// is not swallowed: device_probe_error() says what the driver answered, and an answer other
// than "no device" / "no driver" is also printed once to stderr.
int device_count();
// Empty when device_count() > 0; else why there is no usable device (the CUDA error's name
// and text, e.g. "cudaErrorNoDevice: no CUDA-capable device is detected").
std::string device_probe_error();
int current_device();

// Host synchronisations curec made on `device` so far: stream/event waits, device-to-host
// copies, copies from pinned host memory. A training step in steady state makes none.
uint64_t host_sync_count(int device);
void count_host_sync(int device);

// The stream all work for `device` goes on: a non-blocking stream curec creates per device,
// unless a StreamGuard set another on this thread. Per-device state is made once and then only
// read, so finding it takes no lock (ranks of one process, a thread per GPU, do not contend).
cudaStream_t current_stream(int device);
// One handle per device, bound to this thread's current_stream(device) on each call (so one
// thread at a time uses a device's handles: one rank per GPU).
cublasHandle_t cublas(int device);
cudnnHandle_t cudnn(int device);
cusolverDnHandle_t cusolver(int device);

void synchronize(int device);  // stream sync + check_device_errors

class DeviceGuard {
 public:
  explicit DeviceGuard(int device);
  ~DeviceGuard();
  DeviceGuard(const DeviceGuard&) = delete;
  DeviceGuard& operator=(const DeviceGuard&) = delete;

 private:
  int previous_;
};

// Makes `stream` the current stream of `device` on this thread for its scope.
class StreamGuard {
 public:
  StreamGuard(int device, cudaStream_t stream);
  ~StreamGuard();
  StreamGuard(const StreamGuard&) = delete;
  StreamGuard& operator=(const StreamGuard&) = delete;

 private:
  int device_;
  cudaStream_t previous_;
};

// What a kernel reports when it meets bad input (kernels cannot throw).
struct DeviceErrorFlag {
  int code;        // 0 = none; ErrorCode below
  int64_t value;   // offending value (e.g. index)
  int64_t bound;   // the limit it broke (e.g. table rows)
};
enum ErrorCode : int { kNoError = 0, kIndexOutOfRange = 1, kClassOutOfRange = 2 };

// Device pointer to the flag of `device` (device memory, read back by check_device_errors).
DeviceErrorFlag* device_error_flag(int device);
// Throws a curec::Error if a kernel raised the flag since the last check; clears it.
void check_device_errors(int device);

__host__ __device__ inline unsigned grid_for(int64_t n, int block = 256) {
  int64_t g = (n + block - 1) / block;
  return static_cast<unsigned>(g < 1 ? 1 : (g > 65535LL * 16 ? 65535LL * 16 : g));
}

}  // namespace curec::cuda

#ifdef __CUDACC__
// Grid-stride loop over [0, n).
#define CUREC_GRID_LOOP(i, n) \
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < (n); i += int64_t(gridDim.x) * blockDim.x)

namespace curec::cuda {
// Raises the flag once; the first error wins.
__device__ inline void raise_error(DeviceErrorFlag* f, int code, int64_t value, int64_t bound) {
  if (atomicCAS(&f->code, 0, code) == 0) {
    f->value = value;
    f->bound = bound;
  }
}
}  // namespace curec::cuda
#endif
