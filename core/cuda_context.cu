#include <atomic>
#include <cstdio>
#include <memory>
#include <mutex>
#include <vector>

#include "core/cuda_context.h"

namespace curec::cuda {
namespace {

// Made once per device (call_once), then only read: a kernel launch takes no lock to find its
// stream, so the ranks of one process, a thread per GPU, do not contend.
struct PerDevice {
  std::once_flag init, cublas_once, cudnn_once, cusolver_once;
  cudaStream_t stream = nullptr;  // curec's stream for the device
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

std::vector<std::unique_ptr<PerDevice>>& devices() {
  static std::vector<std::unique_ptr<PerDevice>> d = [] {
    std::vector<std::unique_ptr<PerDevice>> v;
    for (int i = 0; i < device_count(); ++i) v.push_back(std::make_unique<PerDevice>());
    return v;
  }();
  return d;
}

// StreamGuard's streams, per thread and device (nullptr: the device's own).
thread_local std::vector<cudaStream_t> t_streams;

PerDevice& state(int device) {
  auto& d = devices();
  CUREC_CHECK(device >= 0 && device < static_cast<int>(d.size()), "cuda:", device,
              " does not exist: this machine has ", d.size(), " usable CUDA device(s)",
              d.empty() ? " (" + probe().error + ")" : std::string());
  PerDevice& s = *d[device];
  std::call_once(s.init, [&] {  // a throw leaves it to be tried again
    DeviceGuard g(device);
    CUREC_CUDA_CHECK(cudaStreamCreateWithFlags(&s.stream, cudaStreamNonBlocking));
    CUREC_CUDA_CHECK(cudaMalloc(reinterpret_cast<void**>(&s.flag_dev), sizeof(DeviceErrorFlag)));
    // Cleared before any stream's kernel can use it (a plain cudaMemset may still be running).
    CUREC_CUDA_CHECK(cudaMemsetAsync(s.flag_dev, 0, sizeof(DeviceErrorFlag), s.stream));
    CUREC_CUDA_CHECK(cudaStreamSynchronize(s.stream));
    CUREC_CUDA_CHECK(cudaHostAlloc(reinterpret_cast<void**>(&s.flag_host), sizeof(DeviceErrorFlag), cudaHostAllocDefault));
  });
  return s;
}

// A library handle of the device, made on first use, bound to this thread's current stream.
template <class Handle, class Create, class SetStream>
Handle bound_handle(int device, Handle PerDevice::*member, std::once_flag PerDevice::*once, Create create,
                    SetStream set_stream) {
  PerDevice& s = state(device);
  std::call_once(s.*once, [&] {
    DeviceGuard g(device);
    create(&(s.*member));
  });
  set_stream(s.*member, current_stream(device));
  return s.*member;
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
  PerDevice& s = state(device);
  const auto d = static_cast<size_t>(device);
  return d < t_streams.size() && t_streams[d] ? t_streams[d] : s.stream;
}

cublasHandle_t cublas(int device) {
  return bound_handle(
      device, &PerDevice::cublas, &PerDevice::cublas_once, [](cublasHandle_t* h) { CUREC_CUBLAS_CHECK(cublasCreate(h)); },
      [](cublasHandle_t h, cudaStream_t st) { CUREC_CUBLAS_CHECK(cublasSetStream(h, st)); });
}

cudnnHandle_t cudnn(int device) {
  return bound_handle(
      device, &PerDevice::cudnn, &PerDevice::cudnn_once, [](cudnnHandle_t* h) { CUREC_CUDNN_CHECK(cudnnCreate(h)); },
      [](cudnnHandle_t h, cudaStream_t st) { CUREC_CUDNN_CHECK(cudnnSetStream(h, st)); });
}

cusolverDnHandle_t cusolver(int device) {
  return bound_handle(
      device, &PerDevice::cusolver, &PerDevice::cusolver_once,
      [](cusolverDnHandle_t* h) { CUREC_CUSOLVER_CHECK(cusolverDnCreate(h)); },
      [](cusolverDnHandle_t h, cudaStream_t st) { CUREC_CUSOLVER_CHECK(cusolverDnSetStream(h, st)); });
}

void synchronize(int device) {
  count_host_sync(device);
  CUREC_CUDA_CHECK(cudaStreamSynchronize(current_stream(device)));
  check_device_errors(device);
}

DeviceErrorFlag* device_error_flag(int device) { return state(device).flag_dev; }

void check_device_errors(int device) {
  PerDevice& s = state(device);
  DeviceErrorFlag* dev_flag = s.flag_dev;
  DeviceErrorFlag* host_flag = s.flag_host;
  const cudaStream_t stream = current_stream(device);
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
    case kClassOutOfRange:
      CUREC_FAIL("target ", f.value, " is out of range for ", f.bound, " classes (raised by a kernel on cuda:", device,
                 ", seen at the next synchronisation); targets must lie in [0, ", f.bound,
                 ") or equal the ignore index");
    default: CUREC_FAIL("a kernel on cuda:", device, " raised device error code ", f.code);
  }
}

DeviceGuard::DeviceGuard(int device) {
  CUREC_CUDA_CHECK(cudaGetDevice(&previous_));
  if (device != previous_) CUREC_CUDA_CHECK(cudaSetDevice(device));
}
DeviceGuard::~DeviceGuard() { cudaSetDevice(previous_); }

StreamGuard::StreamGuard(int device, cudaStream_t stream) : device_(device) {
  (void)state(device);  // checks the device
  const auto d = static_cast<size_t>(device);
  if (t_streams.size() <= d) t_streams.resize(d + 1, nullptr);
  previous_ = t_streams[d];
  t_streams[d] = stream;
}
StreamGuard::~StreamGuard() { t_streams[static_cast<size_t>(device_)] = previous_; }

}  // namespace curec::cuda
