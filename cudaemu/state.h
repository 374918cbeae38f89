#pragma once
// The emulated machine's state that the runtime and every library stand-in share: emulated
// devices, the registry of device and pinned allocations, and the faults a kernel or library
// call meets (reported at the next cudaGetLastError / synchronisation, as a GPU reports them).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include <cuda_runtime_api.h>

namespace curec_emu {

// Emulated devices: $CUREC_EMU_DEVICES (default 2), so multi-device code runs on one machine.
int device_count();
// This host thread's device (cudaSetDevice), 0 until set.
int current_device();
void set_current_device(int device);
// The device whose work `stream` orders (the legacy/per-thread default streams: the current one).
int stream_device(cudaStream_t stream);
// The dynamic shared memory a launch of `kernel` may ask for: 48 KiB, or what
// cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, n) opted into.
size_t max_dynamic_shared(const void* kernel);

enum class MemoryKind { device, pinned_host };
struct Allocation {
  const char* base;
  size_t bytes;
  int device;  // the device that allocated it (for pinned host memory: the current one then)
  MemoryKind kind;
};

// Device (or pinned host) memory of `bytes`, registered; freed by release().
void* allocate(size_t bytes, MemoryKind kind);
// false when p is not a live allocation of that kind (the caller reports the error).
bool release(void* p, MemoryKind kind);
// The allocation holding p: base <= p < base + bytes (or p == base + bytes, a one-past-the-end
// pointer). nullopt for memory the emulated runtime did not hand out.
std::optional<Allocation> find_allocation(const void* p);
// Whether [p, p + bytes) lies inside one device allocation (pinned host memory is not device
// memory here: pass allow_pinned to accept it, as kernels may read mapped pinned memory).
bool is_device_range(const void* p, size_t bytes, bool allow_pinned = false);
// "" when [p, p + bytes) is device memory, else a sentence saying what p is instead, naming
// `what` (e.g. "cublasSgemm's A"): for fault messages.
std::string describe_bad_range(const void* p, size_t bytes, const std::string& what);

// Streams, events and library handles belong to the device, as a driver keeps them until the
// process ends: they are registered here (a registry never destroyed, like the allocations'),
// so LeakSanitizer sees what a process leaves to the device as reachable, not as a host leak.
void keep(const void* object);
void drop(const void* object);

// A fault: printed to stderr at once (prefixed "curec emulator: "), and returned as `code` by
// this thread's next cudaGetLastError, cudaPeekAtLastError or synchronising call (stream,
// event or device sync, a blocking copy). cudaGetErrorString(code) then returns `message`,
// so the project's own error checks print what the emulator found. Set CUREC_EMU_ABORT=1 to
// abort at the fault instead (for a debugger).
void fault(cudaError_t code, const std::string& message);
// The same sentence for an error the failing call returns itself (a bad copy, a bad free):
// printed and kept for cudaGetErrorString, not left pending for a later check.
void report(cudaError_t code, const std::string& message);
// The pending fault, cleared (cudaSuccess when none).
cudaError_t take_fault();
cudaError_t peek_fault();
// The message of the last fault with this code on this thread, or nullptr.
const char* fault_message(cudaError_t code);

}  // namespace curec_emu
