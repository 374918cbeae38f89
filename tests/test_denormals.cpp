// Denormal floats on the CPU are flushed to zero on every thread that runs kernels (FTZ/DAZ),
// as the CUDA backend flushes them (-ftz=true), so the backends agree on tiny values.
#include <cmath>
#include <cstring>
#include <limits>
#include <thread>
#include <vector>
#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
#endif

#include "core/denormals.h"
#include "core/parallel.h"
#include "ops/elementwise.h"
#include "ops/reduce.h"
#include "tests/testing.h"

using namespace curec;

namespace {

// 1e-40f and friends: below FLT_MIN (1.18e-38), so subnormal. volatile: the compiler may not
// fold the arithmetic below at compile time, where MXCSR does not apply.
std::vector<float> subnormals() {
  volatile float tiny = 1e-40f;
  return {tiny, -tiny, 3 * tiny, std::numeric_limits<float>::denorm_min(), 1e-39f, -5e-39f};
}

bool all_zero(const std::vector<float>& v) {
  for (float x : v)
    if (x != 0.0f) return false;
  return true;
}

Tensor subnormal_tensor(int64_t n) {
  std::vector<float> v;
  const std::vector<float> base = subnormals();
  for (int64_t i = 0; i < n; ++i) v.push_back(base[static_cast<size_t>(i) % base.size()]);
  return Tensor::from_vector(v, {n});
}

}  // namespace

TEST_CASE("denormals: the thread that uses the CPU backend has FTZ and DAZ set") {
#if defined(__x86_64__) || defined(__i386__)
  Tensor t = Tensor::zeros({4});
  CHECK(denormals_flushed_on_this_thread());
  // A new thread with the bits cleared (as a thread of a host program may have them): its first
  // CPU tensor (zeroed by a CPU loop), the backend's first use there, sets them.
  bool before = true, after = false;
  std::thread other([&] {
    _mm_setcsr(_mm_getcsr() & ~0x8040u);
    before = denormals_flushed_on_this_thread();
    Tensor u = Tensor::zeros({4});
    after = denormals_flushed_on_this_thread();
  });
  other.join();
  CHECK_FALSE(before);
  CHECK(after);
#else
  MESSAGE("SKIPPED: FTZ/DAZ exist only on x86 (MXCSR)");
#endif
}

TEST_CASE("denormals: every pool thread has FTZ and DAZ set") {
#if defined(__x86_64__) || defined(__i386__)
  set_cpu_threads(3);
  std::vector<int> flushed(64, -1);
  parallel_for(0, 64, 1, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) flushed[static_cast<size_t>(i)] = denormals_flushed_on_this_thread() ? 1 : 0;
  });
  for (int f : flushed) CHECK(f == 1);
  set_cpu_threads(2);
#else
  MESSAGE("SKIPPED: FTZ/DAZ exist only on x86 (MXCSR)");
#endif
}

TEST_CASE("denormals: ops on subnormal inputs give zero on the CPU, as on CUDA") {
#if defined(__x86_64__) || defined(__i386__)
  // Small (inline on this thread) and large (split over the pool) tensors.
  for (int64_t n : {int64_t{6}, int64_t{200'000}}) {
    CAPTURE(n);
    Tensor a = subnormal_tensor(n), b = subnormal_tensor(n);
    CHECK(all_zero((a * 1.0f).to_vector<float>()));  // DAZ: a subnormal input reads as 0
    CHECK(all_zero((a + b).to_vector<float>()));
    CHECK(all_zero((a - 0.0f).to_vector<float>()));
    CHECK(sum(a).item() == 0.0f);
    // FTZ: normal inputs whose product is subnormal give 0.
    Tensor small = Tensor::full({n}, 1e-20f);
    CHECK(all_zero((small * small).to_vector<float>()));
    CHECK(all_zero((small * 1e-19f).to_vector<float>()));
  }
  // The decay that made MF's untouched rows subnormal: w *= 0.5 from a normal float reaches 0,
  // never a subnormal.
  Tensor w = Tensor::full({4}, 1e-36f);
  for (int i = 0; i < 30; ++i) w = w * 0.5f;
  for (float x : w.to_vector<float>()) CHECK(std::fpclassify(x) != FP_SUBNORMAL);
#else
  MESSAGE("SKIPPED: FTZ/DAZ exist only on x86 (MXCSR)");
#endif
}

TEST_SUITE("cuda") {
  TEST_CASE("denormals: CUDA flushes subnormal inputs and results as the CPU does") {
    for (int64_t n : {int64_t{6}, int64_t{200'000}}) {
      Tensor a = subnormal_tensor(n), b = subnormal_tensor(n), small = Tensor::full({n}, 1e-20f);
      Device d = Device::cuda(0);
      auto same = [](const Tensor& on_cuda, const Tensor& on_cpu, const char* what) {
        CAPTURE(what);
        const std::vector<float> x = on_cuda.to_vector<float>(), y = on_cpu.to_vector<float>();
        REQUIRE(x.size() == y.size());
        CHECK(std::memcmp(x.data(), y.data(), x.size() * sizeof(float)) == 0);
        CHECK(all_zero(x));
      };
      same((a.to(d) * 1.0f).cpu(), a * 1.0f, "a * 1");
      same((a.to(d) + b.to(d)).cpu(), a + b, "a + b");
      same(sum(a.to(d)).cpu().view({1}), sum(a).view({1}), "sum(a)");
      same((small.to(d) * small.to(d)).cpu(), small * small, "1e-20 * 1e-20");
    }
  }
}
