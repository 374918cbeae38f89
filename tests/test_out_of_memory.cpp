// Out of memory (core/out_of_memory): the allocator's failure names the bytes, the device and
// the tensor; the fault injection fails exactly the Nth allocation and then lets memory be had.
#include <cstdint>
#include <string>

#include "core/allocator.h"
#include "core/out_of_memory.h"
#include "tests/testing.h"

using namespace curec;

namespace {
// The message of the OutOfMemory f throws ("" when it throws none); f runs once, as an armed
// fault fires once.
std::string oom_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const OutOfMemory& e) {
    return e.message();
  }
  return "";
}
}  // namespace

TEST_CASE("out of memory: the Nth CPU allocation fails, naming its bytes and tensor; the next ones succeed") {
  const uint64_t before = memory_stats(Device::cpu()).system_allocations;
  fail_cpu_allocation(3);
  Tensor a = Tensor::empty({4});
  Tensor b = Tensor::empty({5});
  const std::string message = oom_of([] { Tensor::empty({6, 7}, DType::i32); });
  CHECK(message == "out of memory allocating 168 bytes on cpu for a i32 tensor of shape [6, 7]");
  CHECK(memory_stats(Device::cpu()).system_allocations == before + 2);  // the failed one took nothing
  Tensor c = Tensor::empty({6, 7});  // disarmed after firing
  CHECK(c.numel() == 42);
  fail_cpu_allocation(0);
}

TEST_CASE("out of memory: an allocation the system cannot give is the same clear error") {
  // 2^62 bytes: no machine has them; the allocator returns null rather than over-committing.
  const std::string message = oom_of([] { Tensor::empty({int64_t{1} << 60}); });
  CHECK(message == "out of memory allocating 4611686018427387904 bytes on cpu for a f32 tensor of shape "
                   "[1152921504606846976]");
}
