#include <atomic>
#include <cstdio>
#include <mutex>
#include <vector>

#include "core/cuda_context.h"

namespace curec::cuda {
namespace {

struct PerDevice {
  cudaStream_t default_stream = nullptr;
  cudaStream_t current = nullptr;
  cublasHandle_t cublas = nullptr;
  cudnnHandle_t cudnn = nullptr;
  cusolverDnHandle_t cusolver = nullptr;
  // The kernels' error flag lives in device memory (atomics on mapped host memory are not
  // atomic on every platform); check_device_errors copies it into flag_host after a sync.
  DeviceErrorFlag* flag_dev = nullptr;
  DeviceErrorFlag* flag_host = nullptr;  // pinned
};

struct Probe {
  int count = 0;
  std::string error;  // why count is 0
};

const Probe& probe() {
  static const Probe p = [] {
    Probe r;
    int n = 0;
    cudaError_t err = cudaGetDeviceCount(&n);
    if (err != cudaSuccess) {
      cudaGetLastError();  // clear it: CPU work goes on without CUDA
      r.error = std::string(cudaGetErrorName(err)) + ": " + cudaGetErrorString(err);
      // No device or no driver is what a CPU machine answers; anything else is a broken GPU setup.
      if (err != cudaErrorNoDevice && err != cudaErrorInsufficientDriver)
        std::fprintf(stderr, "curec: CUDA devices are unusable (cudaGetDeviceCount: %s); running without CUDA\n",
                     r.error.c_str());
      return r;
    }
    r.count = n;
    if (n == 0) r.error = "cudaGetDeviceCount found 0 devices";
    return r;
  }();
  return p;
}

std::mutex g_mutex;
std::vector<PerDevice>& devices() {
  static std::vector<PerDevice> d(device_count());
  return d;
}

PerDevice& state(int device) {
  auto& d = devices();
  CUREC_CHECK(device >= 0 && device < static_cast<int>(d.size()), "cuda:", device,
              " does not exist: this machine has ", d.size(), " usable CUDA device(s)",
              d.empty() ? " (" + probe().error + ")" : std::string());
  PerDevice& s = d[device];
  if (!s.default_stream) {
    DeviceGuard g(device);
    CUREC_CUDA_CHECK(cudaStreamCreateWithFlags(&s.default_stream, cudaStreamNonBlocking));
    s.current = s.default_stream;
    CUREC_CUDA_CHECK(cudaMalloc(reinterpret_cast<void**>(&s.flag_dev), sizeof(DeviceErrorFlag)));
    // Cleared before any stream's kernel can use it (a plain cudaMemset may still be running).
    CUREC_CUDA_CHECK(cudaMemsetAsync(s.flag_dev, 0, sizeof(DeviceErrorFlag), s.default_stream));
    CUREC_CUDA_CHECK(cudaStreamSynchronize(s.default_stream));
    CUREC_CUDA_CHECK(cudaHostAlloc(reinterpret_cast<void**>(&s.flag_host), sizeof(DeviceErrorFlag), cudaHostAllocDefault));
  }
  return s;
}

constexpr int kMaxCountedDevices = 64;
std::atomic<uint64_t> g_host_syncs[kMaxCountedDevices];

}  // namespace

int device_count() { return probe().count; }
std::string device_probe_error() { return probe().error; }

uint64_t host_sync_count(int device) {
  return device >= 0 && device < kMaxCountedDevices ? g_host_syncs[device].load() : 0;
}
void count_host_sync(int device) {
  if (device >= 0 && device < kMaxCountedDevices) ++g_host_syncs[device];
}

int current_device() {
  int d = 0;
  CUREC_CUDA_CHECK(cudaGetDevice(&d));
  return d;
}

cudaStream_t current_stream(int device) {
  std::lock_guard lock(g_mutex);
  return state(device).current;
}

cublasHandle_t cublas(int device) {
  std::lock_guard lock(g_mutex);
  PerDevice& s = state(device);
  if (!s.cublas) {
    DeviceGuard g(device);
    CUREC_CUBLAS_CHECK(cublasCreate(&s.cublas));
  }
  CUREC_CUBLAS_CHECK(cublasSetStream(s.cublas, s.current));
  return s.cublas;
}

cudnnHandle_t cudnn(int device) {
  std::lock_guard lock(g_mutex);
  PerDevice& s = state(device);
  if (!s.cudnn) {
    DeviceGuard g(device);
    CUREC_CUDNN_CHECK(cudnnCreate(&s.cudnn));
  }
  CUREC_CUDNN_CHECK(cudnnSetStream(s.cudnn, s.current));
  return s.cudnn;
}

cusolverDnHandle_t cusolver(int device) {
  std::lock_guard lock(g_mutex);
  PerDevice& s = state(device);
  if (!s.cusolver) {
    DeviceGuard g(device);
    CUREC_CUSOLVER_CHECK(cusolverDnCreate(&s.cusolver));
  }
  CUREC_CUSOLVER_CHECK(cusolverDnSetStream(s.cusolver, s.current));
  return s.cusolver;
}

void synchronize(int device) {
  count_host_sync(device);
  CUREC_CUDA_CHECK(cudaStreamSynchronize(current_stream(device)));
  check_device_errors(device);
}

DeviceErrorFlag* device_error_flag(int device) {
  std::lock_guard lock(g_mutex);
  return state(device).flag_dev;
}

void check_device_errors(int device) {
  DeviceErrorFlag* dev_flag = nullptr;
  DeviceErrorFlag* host_flag = nullptr;
  cudaStream_t stream = nullptr;
  {
    std::lock_guard lock(g_mutex);
    PerDevice& s = state(device);
    dev_flag = s.flag_dev;
    host_flag = s.flag_host;
    stream = s.current;
  }
  // Called right after the stream was synchronised: this copy waits for nothing else.
  DeviceGuard g(device);
  CUREC_CUDA_CHECK(cudaMemcpyAsync(host_flag, dev_flag, sizeof(DeviceErrorFlag), cudaMemcpyDeviceToHost, stream));
  CUREC_CUDA_CHECK(cudaStreamSynchronize(stream));
  const DeviceErrorFlag f = *host_flag;
  if (f.code != kNoError) CUREC_CUDA_CHECK(cudaMemsetAsync(dev_flag, 0, sizeof(DeviceErrorFlag), stream));
  switch (f.code) {
    case kNoError: return;
    case kIndexOutOfRange:
      CUREC_FAIL("index ", f.value, " is out of range for a table of ", f.bound,
                 " rows (raised by a kernel on cuda:", device,
                 ", seen at the next synchronisation); ids must lie in [0, ", f.bound, ")");
    default: CUREC_FAIL("a kernel on cuda:", device, " raised device error code ", f.code);
  }
}

DeviceGuard::DeviceGuard(int device) {
  CUREC_CUDA_CHECK(cudaGetDevice(&previous_));
  if (device != previous_) CUREC_CUDA_CHECK(cudaSetDevice(device));
}
DeviceGuard::~DeviceGuard() { cudaSetDevice(previous_); }

StreamGuard::StreamGuard(int device, cudaStream_t stream) : device_(device) {
  std::lock_guard lock(g_mutex);
  PerDevice& s = state(device);
  previous_ = s.current;
  s.current = stream;
}
StreamGuard::~StreamGuard() {
  std::lock_guard lock(g_mutex);
  devices()[device_].current = previous_;
}

}  // namespace curec::cuda
