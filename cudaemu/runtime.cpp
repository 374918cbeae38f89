// The CUDA runtime API on emulated devices: memory, copies, memsets, streams and events (work
// runs in order, at the call, on the calling thread), devices and their properties, errors.
#include <cuda_runtime_api.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "state.h"

struct CUstream_st {
  int device;
  unsigned flags;
};
struct CUevent_st {
  int device;
  unsigned flags;
};

namespace curec_emu {
namespace {

constexpr size_t kStaticShared = 48 << 10, kOptInShared = 227 << 10;

std::mutex g_func_mutex;
std::map<const void*, size_t> g_dynamic_shared;  // cudaFuncSetAttribute opt-ins

// Emulated device memory per device: $CUREC_EMU_DEVICE_MEMORY bytes (default 16 GiB), so that
// out-of-memory paths run; the host's own memory limits what can really be handed out.
size_t device_memory() {
  static const size_t n = [] {
    const char* s = std::getenv("CUREC_EMU_DEVICE_MEMORY");
    return s && *s ? std::strtoull(s, nullptr, 10) : size_t(16) << 30;
  }();
  return n;
}
std::atomic<size_t> g_used[64];

bool valid_device(int d) { return d >= 0 && d < device_count() && d < 64; }

cudaError_t fail(cudaError_t code, const std::string& what) {
  report(code, what);  // returned here, not again at the next check
  return code;
}

// What a copy's kind says each side is; checked against the registry.
cudaError_t check_copy(void* dst, const void* src, size_t n, cudaMemcpyKind kind, const char* fn) {
  if (n == 0) return cudaSuccess;
  if (kind == cudaMemcpyDefault) return cudaSuccess;  // any memory the process can address
  bool dst_dev = kind == cudaMemcpyHostToDevice || kind == cudaMemcpyDeviceToDevice;
  bool src_dev = kind == cudaMemcpyDeviceToHost || kind == cudaMemcpyDeviceToDevice;
  if (kind == cudaMemcpyHostToHost) return cudaSuccess;
  if (dst_dev && !is_device_range(dst, n))
    return fail(cudaErrorInvalidValue, std::string(fn) + ": " + describe_bad_range(dst, n, "destination"));
  if (src_dev && !is_device_range(src, n))
    return fail(cudaErrorInvalidValue, std::string(fn) + ": " + describe_bad_range(src, n, "source"));
  auto host_side_is_device = [n](const void* p) { return p && is_device_range(p, n); };
  if ((!dst_dev && host_side_is_device(dst)) || (!src_dev && host_side_is_device(src)))
    return fail(cudaErrorInvalidValue, std::string(fn) + ": a host side of the copy is device memory; the copy kind "
                                       "does not match the pointers");
  return cudaSuccess;
}

}  // namespace

int stream_device(cudaStream_t stream) { return stream ? stream->device : current_device(); }

size_t max_dynamic_shared(const void* kernel) {
  std::lock_guard lock(g_func_mutex);
  auto it = g_dynamic_shared.find(kernel);
  return it == g_dynamic_shared.end() ? kStaticShared : it->second;
}

}  // namespace curec_emu

using namespace curec_emu;

extern "C" {

cudaError_t cudaGetDeviceCount(int* count) {
  *count = device_count();
  return device_count() ? cudaSuccess : cudaErrorNoDevice;
}
cudaError_t cudaSetDevice(int device) {
  if (!valid_device(device)) return cudaErrorInvalidDevice;
  set_current_device(device);
  return cudaSuccess;
}
cudaError_t cudaGetDevice(int* device) {
  *device = current_device();
  return cudaSuccess;
}
cudaError_t cudaDeviceSynchronize(void) { return take_fault(); }
cudaError_t cudaDeviceReset(void) { return cudaSuccess; }
cudaError_t cudaRuntimeGetVersion(int* v) {
  *v = CUDART_VERSION;
  return cudaSuccess;
}
cudaError_t cudaDriverGetVersion(int* v) {
  *v = CUDART_VERSION;
  return cudaSuccess;
}

cudaError_t cudaGetDeviceProperties(cudaDeviceProp* p, int device) {
  if (!valid_device(device)) return cudaErrorInvalidDevice;
  std::memset(p, 0, sizeof *p);
  std::snprintf(p->name, sizeof p->name, "curec emulated sm_90 (device %d)", device);
  p->totalGlobalMem = device_memory();
  p->sharedMemPerBlock = kStaticShared;
  p->sharedMemPerBlockOptin = kOptInShared;
  p->sharedMemPerMultiprocessor = 228 << 10;
  p->regsPerBlock = 65536;
  p->warpSize = 32;
  p->maxThreadsPerBlock = 1024;
  p->maxThreadsDim[0] = 1024, p->maxThreadsDim[1] = 1024, p->maxThreadsDim[2] = 64;
  p->maxGridSize[0] = 0x7fffffff, p->maxGridSize[1] = 65535, p->maxGridSize[2] = 65535;
  p->major = 9, p->minor = 0;
  p->multiProcessorCount = 132;
  p->maxThreadsPerMultiProcessor = 2048;
  p->unifiedAddressing = 1;
  p->concurrentKernels = 1;
  p->pciDeviceID = device;
  return cudaSuccess;
}

cudaError_t cudaDeviceGetAttribute(int* value, cudaDeviceAttr attr, int device) {
  cudaDeviceProp p;
  if (cudaGetDeviceProperties(&p, device) != cudaSuccess) return cudaErrorInvalidDevice;
  switch (attr) {
    case cudaDevAttrMaxThreadsPerBlock: *value = p.maxThreadsPerBlock; break;
    case cudaDevAttrMaxSharedMemoryPerBlock: *value = static_cast<int>(p.sharedMemPerBlock); break;
    case cudaDevAttrMaxSharedMemoryPerBlockOptin: *value = static_cast<int>(p.sharedMemPerBlockOptin); break;
    case cudaDevAttrMultiProcessorCount: *value = p.multiProcessorCount; break;
    case cudaDevAttrWarpSize: *value = 32; break;
    case cudaDevAttrComputeCapabilityMajor: *value = p.major; break;
    case cudaDevAttrComputeCapabilityMinor: *value = p.minor; break;
    case cudaDevAttrMaxGridDimX: *value = p.maxGridSize[0]; break;
    case cudaDevAttrMaxGridDimY: *value = p.maxGridSize[1]; break;
    case cudaDevAttrMaxGridDimZ: *value = p.maxGridSize[2]; break;
    case cudaDevAttrMaxBlockDimX: *value = p.maxThreadsDim[0]; break;
    case cudaDevAttrMaxBlockDimY: *value = p.maxThreadsDim[1]; break;
    case cudaDevAttrMaxBlockDimZ: *value = p.maxThreadsDim[2]; break;
    default: return cudaErrorInvalidValue;
  }
  return cudaSuccess;
}

cudaError_t cudaFuncSetAttribute(const void* func, cudaFuncAttribute attr, int value) {
  if (attr != cudaFuncAttributeMaxDynamicSharedMemorySize) return cudaSuccess;
  if (value < 0 || static_cast<size_t>(value) > kOptInShared) return cudaErrorInvalidValue;
  std::lock_guard lock(g_func_mutex);
  g_dynamic_shared[func] = static_cast<size_t>(value);
  return cudaSuccess;
}

// ---- memory ----
cudaError_t cudaMalloc(void** p, size_t bytes) {
  *p = nullptr;
  int d = current_device();
  size_t used = g_used[d].fetch_add(bytes) + bytes;
  if (used > device_memory()) {
    g_used[d] -= bytes;
    return cudaErrorMemoryAllocation;
  }
  *p = allocate(bytes, MemoryKind::device);
  if (!*p) {
    g_used[d] -= bytes;
    return cudaErrorMemoryAllocation;
  }
  return cudaSuccess;
}
cudaError_t cudaFree(void* p) {
  if (!p) return cudaSuccess;
  auto a = find_allocation(p);
  if (!a || a->base != p || a->kind != MemoryKind::device)
    return fail(cudaErrorInvalidValue, "cudaFree: " + describe_bad_range(p, 0, "the pointer") +
                                           " (not the start of a live cudaMalloc allocation)");
  g_used[a->device] -= a->bytes;
  release(p, MemoryKind::device);
  return cudaSuccess;
}
cudaError_t cudaHostAlloc(void** p, size_t bytes, unsigned int) {
  *p = allocate(bytes, MemoryKind::pinned_host);
  return *p ? cudaSuccess : cudaErrorMemoryAllocation;
}
cudaError_t cudaMallocHost(void** p, size_t bytes) { return cudaHostAlloc(p, bytes, 0); }
cudaError_t cudaFreeHost(void* p) {
  if (!p) return cudaSuccess;
  return release(p, MemoryKind::pinned_host) ? cudaSuccess
                                             : fail(cudaErrorInvalidValue, "cudaFreeHost: not a pinned allocation");
}
cudaError_t cudaMemGetInfo(size_t* free_bytes, size_t* total) {
  *total = device_memory();
  *free_bytes = device_memory() - g_used[current_device()].load();
  return cudaSuccess;
}
cudaError_t cudaPointerGetAttributes(cudaPointerAttributes* attr, const void* p) {
  std::memset(attr, 0, sizeof *attr);
  auto a = find_allocation(p);
  if (!a) {
    attr->type = cudaMemoryTypeUnregistered;
    attr->device = -2;
    return cudaSuccess;
  }
  attr->device = a->device;
  attr->type = a->kind == MemoryKind::device ? cudaMemoryTypeDevice : cudaMemoryTypeHost;
  attr->devicePointer = const_cast<void*>(p);
  attr->hostPointer = a->kind == MemoryKind::device ? nullptr : const_cast<void*>(p);
  return cudaSuccess;
}

cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t n, cudaMemcpyKind kind, cudaStream_t) {
  cudaError_t e = check_copy(dst, src, n, kind, "cudaMemcpyAsync");
  if (e == cudaSuccess && n) std::memmove(dst, src, n);
  return e;
}
cudaError_t cudaMemcpy(void* dst, const void* src, size_t n, cudaMemcpyKind kind) {
  cudaError_t pending = take_fault();  // a blocking copy waits for the kernels before it
  if (pending != cudaSuccess) return pending;
  return cudaMemcpyAsync(dst, src, n, kind, nullptr);
}
cudaError_t cudaMemcpyPeerAsync(void* dst, int dst_device, const void* src, int src_device, size_t n, cudaStream_t) {
  auto a = find_allocation(dst), b = find_allocation(src);
  if (!is_device_range(dst, n) || !is_device_range(src, n) || a->device != dst_device || b->device != src_device)
    return fail(cudaErrorInvalidValue, "cudaMemcpyPeerAsync: " + describe_bad_range(dst, n, "destination") + " " +
                                           describe_bad_range(src, n, "source") + " (or a device number mismatch)");
  std::memmove(dst, src, n);
  return cudaSuccess;
}
cudaError_t cudaMemsetAsync(void* p, int value, size_t n, cudaStream_t) {
  if (n && !is_device_range(p, n)) return fail(cudaErrorInvalidValue, "cudaMemsetAsync: " + describe_bad_range(p, n, "the range"));
  if (n) std::memset(p, value, n);
  return cudaSuccess;
}
cudaError_t cudaMemset(void* p, int value, size_t n) { return cudaMemsetAsync(p, value, n, nullptr); }

// ---- streams and events: all work already ran at its call ----
cudaError_t cudaStreamCreateWithFlags(cudaStream_t* s, unsigned int flags) {
  *s = new CUstream_st{current_device(), flags};
  keep(*s);
  return cudaSuccess;
}
cudaError_t cudaStreamCreate(cudaStream_t* s) { return cudaStreamCreateWithFlags(s, 0); }
cudaError_t cudaStreamCreateWithPriority(cudaStream_t* s, unsigned int flags, int) {
  return cudaStreamCreateWithFlags(s, flags);
}
cudaError_t cudaStreamDestroy(cudaStream_t s) {
  drop(s);
  delete s;
  return cudaSuccess;
}
cudaError_t cudaStreamSynchronize(cudaStream_t) { return take_fault(); }
cudaError_t cudaStreamQuery(cudaStream_t) { return cudaSuccess; }
cudaError_t cudaStreamWaitEvent(cudaStream_t, cudaEvent_t e, unsigned int) {
  return e ? cudaSuccess : cudaErrorInvalidResourceHandle;
}
cudaError_t cudaLaunchHostFunc(cudaStream_t, cudaHostFn_t fn, void* data) {
  fn(data);
  return cudaSuccess;
}
cudaError_t cudaEventCreateWithFlags(cudaEvent_t* e, unsigned int flags) {
  *e = new CUevent_st{current_device(), flags};
  keep(*e);
  return cudaSuccess;
}
cudaError_t cudaEventCreate(cudaEvent_t* e) { return cudaEventCreateWithFlags(e, 0); }
cudaError_t cudaEventDestroy(cudaEvent_t e) {
  drop(e);
  delete e;
  return cudaSuccess;
}
cudaError_t cudaEventRecord(cudaEvent_t e, cudaStream_t) { return e ? cudaSuccess : cudaErrorInvalidResourceHandle; }
cudaError_t cudaEventQuery(cudaEvent_t e) { return e ? cudaSuccess : cudaErrorInvalidResourceHandle; }
cudaError_t cudaEventSynchronize(cudaEvent_t e) { return e ? take_fault() : cudaErrorInvalidResourceHandle; }
cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t a, cudaEvent_t b) {
  if (!a || !b) return cudaErrorInvalidResourceHandle;
  if ((a->flags | b->flags) & cudaEventDisableTiming) return cudaErrorInvalidResourceHandle;
  *ms = 0.0f;  // emulation has no device clock
  return cudaSuccess;
}

// ---- errors ----
cudaError_t cudaGetLastError(void) { return take_fault(); }
cudaError_t cudaPeekAtLastError(void) { return peek_fault(); }

const char* cudaGetErrorName(cudaError_t e) {
  switch (e) {
    case cudaSuccess: return "cudaSuccess";
    case cudaErrorInvalidValue: return "cudaErrorInvalidValue";
    case cudaErrorMemoryAllocation: return "cudaErrorMemoryAllocation";
    case cudaErrorInvalidConfiguration: return "cudaErrorInvalidConfiguration";
    case cudaErrorInvalidDevice: return "cudaErrorInvalidDevice";
    case cudaErrorInvalidResourceHandle: return "cudaErrorInvalidResourceHandle";
    case cudaErrorNoDevice: return "cudaErrorNoDevice";
    case cudaErrorInsufficientDriver: return "cudaErrorInsufficientDriver";
    case cudaErrorNotReady: return "cudaErrorNotReady";
    case cudaErrorIllegalAddress: return "cudaErrorIllegalAddress";
    case cudaErrorLaunchFailure: return "cudaErrorLaunchFailure";
    case cudaErrorLaunchOutOfResources: return "cudaErrorLaunchOutOfResources";
    case cudaErrorInvalidDeviceFunction: return "cudaErrorInvalidDeviceFunction";
    case cudaErrorAssert: return "cudaErrorAssert";
    default: return "cudaErrorUnknown";
  }
}

const char* cudaGetErrorString(cudaError_t e) {
  if (const char* m = fault_message(e)) return m;
  switch (e) {
    case cudaSuccess: return "no error";
    case cudaErrorInvalidValue: return "invalid argument";
    case cudaErrorMemoryAllocation: return "out of memory";
    case cudaErrorInvalidConfiguration: return "invalid configuration argument";
    case cudaErrorInvalidDevice: return "invalid device ordinal";
    case cudaErrorInvalidResourceHandle: return "invalid resource handle";
    case cudaErrorNoDevice: return "no CUDA-capable device is detected";
    case cudaErrorNotReady: return "device not ready";
    case cudaErrorIllegalAddress: return "an illegal memory access was encountered";
    case cudaErrorLaunchFailure: return "unspecified launch failure";
    case cudaErrorLaunchOutOfResources: return "too many resources requested for launch";
    default: return "unknown error";
  }
}

}  // extern "C"
