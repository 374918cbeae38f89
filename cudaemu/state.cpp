// The emulated machine's shared state: devices, the allocation registry, pending faults.
#include "state.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <map>
#include <set>
#include <mutex>
#include <shared_mutex>
#include <sstream>

namespace curec_emu {
namespace {

thread_local int t_device = 0;

struct Registry {
  std::shared_mutex mutex;
  std::map<const char*, Allocation> by_base;
};
// Never destroyed: device memory outlives the process's static destructors, as a GPU's does.
Registry& registry() {
  static Registry* r = new Registry;
  return *r;
}

struct Kept {
  std::mutex mutex;
  std::set<const void*> objects;
};
Kept& kept() {
  static Kept* k = new Kept;
  return *k;
}

// The allocation holding p; the caller holds the registry's lock.
const Allocation* lookup(const Registry& r, const void* p) {
  auto c = static_cast<const char*>(p);
  auto it = r.by_base.upper_bound(c);
  if (it == r.by_base.begin()) return nullptr;
  --it;
  const Allocation& a = it->second;
  return c <= a.base + a.bytes ? &a : nullptr;
}

struct PendingFault {
  cudaError_t code = cudaSuccess;
  std::map<int, std::string> messages;  // the last message of each code, for cudaGetErrorString
};
thread_local PendingFault t_fault;

}  // namespace

int device_count() {
  static const int n = [] {
    const char* s = std::getenv("CUREC_EMU_DEVICES");
    int v = s && *s ? std::atoi(s) : 2;
    return v < 0 ? 0 : v;
  }();
  return n;
}
int current_device() { return t_device; }
void set_current_device(int device) { t_device = device; }

void keep(const void* object) {
  std::lock_guard lock(kept().mutex);
  kept().objects.insert(object);
}
void drop(const void* object) {
  std::lock_guard lock(kept().mutex);
  kept().objects.erase(object);
}

void* allocate(size_t bytes, MemoryKind kind) {
  // Exactly `bytes` (at least one), 256-byte aligned as cudaMalloc promises, so that
  // AddressSanitizer sees an access past the end of an allocation.
  size_t size = bytes ? bytes : 1;
  void* p = std::aligned_alloc(256, (size + 255) / 256 * 256);
  if (!p) return nullptr;
  std::unique_lock lock(registry().mutex);
  registry().by_base[static_cast<const char*>(p)] = Allocation{static_cast<const char*>(p), bytes, t_device, kind};
  return p;
}

bool release(void* p, MemoryKind kind) {
  {
    std::unique_lock lock(registry().mutex);
    auto it = registry().by_base.find(static_cast<const char*>(p));
    if (it == registry().by_base.end() || it->second.kind != kind) return false;
    registry().by_base.erase(it);
  }
  std::free(p);
  return true;
}

std::optional<Allocation> find_allocation(const void* p) {
  std::shared_lock lock(registry().mutex);
  const Allocation* a = lookup(registry(), p);
  return a ? std::optional<Allocation>(*a) : std::nullopt;
}

bool is_device_range(const void* p, size_t bytes, bool allow_pinned) {
  if (!p) return bytes == 0;
  std::shared_lock lock(registry().mutex);
  const Allocation* a = lookup(registry(), p);
  if (!a || (a->kind != MemoryKind::device && !allow_pinned)) return false;
  return static_cast<size_t>(static_cast<const char*>(p) - a->base) + bytes <= a->bytes;
}

std::string describe_bad_range(const void* p, size_t bytes, const std::string& what) {
  if (is_device_range(p, bytes)) return "";
  std::ostringstream os;
  os << what << " [" << p << ", +" << bytes << " bytes) ";
  auto a = find_allocation(p);
  if (!p) os << "is a null pointer";
  else if (!a) os << "is not device memory (a host pointer, or memory already freed)";
  else if (a->kind == MemoryKind::pinned_host) os << "is pinned host memory, not device memory";
  else
    os << "runs past the end of its device allocation of " << a->bytes << " bytes (it starts "
       << static_cast<const char*>(p) - a->base << " bytes in)";
  return os.str();
}

void report(cudaError_t code, const std::string& message) {
  std::fprintf(stderr, "curec emulator: %s\n", message.c_str());
  std::fflush(stderr);
  const char* abort_flag = std::getenv("CUREC_EMU_ABORT");
  if (abort_flag && *abort_flag && std::strcmp(abort_flag, "0") != 0) std::abort();
  t_fault.messages[static_cast<int>(code)] = message;
}

void fault(cudaError_t code, const std::string& message) {
  report(code, message);
  if (t_fault.code == cudaSuccess) t_fault.code = code;
}

cudaError_t take_fault() {
  cudaError_t c = t_fault.code;
  t_fault.code = cudaSuccess;
  return c;
}
cudaError_t peek_fault() { return t_fault.code; }

const char* fault_message(cudaError_t code) {
  auto it = t_fault.messages.find(static_cast<int>(code));
  return it == t_fault.messages.end() ? nullptr : it->second.c_str();
}

}  // namespace curec_emu
