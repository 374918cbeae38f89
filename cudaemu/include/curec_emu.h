#pragma once
// Force-included into every project .cu file compiled as host C++ (-DCUREC_CUDA_EMULATE=ON,
// after cudaemu/rewrite.py turned its launches and __shared__ declarations into calls). It
// gives CUDA's device built-ins their meaning on the emulated device (cudaemu/grid.h).
//
// The toolkit's headers come first, while __CUDACC__ is still undefined, so that they declare
// the host API only; then __CUDACC__ is defined for the project's own device code.
#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cudnn.h>
#include <cusolverDn.h>
#include <nccl.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <tuple>
#include <type_traits>
#include <utility>

#include "cudaemu/grid.h"

#define __CUDACC__ 1
#define CUREC_CUDA_EMULATED 1
#undef __launch_bounds__
#define __launch_bounds__(...)

#define threadIdx (::curec_emu::context().thread_idx)
#define blockIdx (::curec_emu::context().block_idx)
#define blockDim (::curec_emu::context().block_dim)
#define gridDim (::curec_emu::context().grid_dim)
#define warpSize 32

#define __syncthreads() ::curec_emu::syncthreads(__FILE__, __LINE__)
#define __syncthreads_count(p) ::curec_emu::syncthreads(__FILE__, __LINE__, ::curec_emu::BarrierReduce::count, (p))
#define __syncthreads_and(p) ::curec_emu::syncthreads(__FILE__, __LINE__, ::curec_emu::BarrierReduce::all, (p))
#define __syncthreads_or(p) ::curec_emu::syncthreads(__FILE__, __LINE__, ::curec_emu::BarrierReduce::any, (p))
#define __syncwarp(...) ::curec_emu::syncwarp_at(__FILE__, __LINE__ __VA_OPT__(, ) __VA_ARGS__)
#define __shfl_sync(...) ::curec_emu::shuffle(::curec_emu::WarpKind::shfl_idx, __FILE__, __LINE__, __VA_ARGS__)
#define __shfl_up_sync(...) ::curec_emu::shuffle(::curec_emu::WarpKind::shfl_up, __FILE__, __LINE__, __VA_ARGS__)
#define __shfl_down_sync(...) ::curec_emu::shuffle(::curec_emu::WarpKind::shfl_down, __FILE__, __LINE__, __VA_ARGS__)
#define __shfl_xor_sync(...) ::curec_emu::shuffle(::curec_emu::WarpKind::shfl_xor, __FILE__, __LINE__, __VA_ARGS__)
#define __ballot_sync(m, p) \
  static_cast<unsigned>(::curec_emu::warp_op(::curec_emu::WarpKind::ballot, __FILE__, __LINE__, (m), (p) ? 1 : 0, 0, 32))
#define __any_sync(m, p) \
  static_cast<int>(::curec_emu::warp_op(::curec_emu::WarpKind::any, __FILE__, __LINE__, (m), (p) ? 1 : 0, 0, 32))
#define __all_sync(m, p) \
  static_cast<int>(::curec_emu::warp_op(::curec_emu::WarpKind::all, __FILE__, __LINE__, (m), (p) ? 1 : 0, 0, 32))
#define __activemask() ::curec_emu::active_mask()

namespace curec_emu {

inline void syncwarp_at(const char* file, int line, unsigned mask = 0xffffffffu) {
  warp_op(WarpKind::sync, file, line, mask, 0, 0, 32);
}

template <class T>
T shuffle(WarpKind kind, const char* file, int line, unsigned mask, T var, int arg, int width = 32) {
  static_assert(sizeof(T) <= 8 && std::is_trivially_copyable_v<T>, "shuffles move at most 8 bytes");
  uint64_t bits = 0;
  std::memcpy(&bits, &var, sizeof(T));
  uint64_t r = warp_op(kind, file, line, mask, bits, arg, width);
  T out;
  std::memcpy(&out, &r, sizeof(T));
  return out;
}

// ---- kernel launches: rewritten by cudaemu/rewrite.py as
//   ::curec_emu::Launch("k", __FILE__, __LINE__, &k, barrier_free, grid, block, shared, stream)(
//       [](auto&... a) { k(a...); }, args...)
class Launch {
 public:
  Launch(const char* name, const char* file, int line, const void* kernel, bool barrier_free, dim3 grid, dim3 block,
         size_t shared = 0, cudaStream_t stream = nullptr)
      : site_{name, file, line, kernel, barrier_free}, grid_(grid), block_(block), shared_(shared), stream_(stream) {}

  template <class Body, class... A>
  void operator()(Body body, A&&... a) {
    // The arguments are copied once at the launch, as CUDA copies them; each thread's call
    // then copies them into the kernel's parameters.
    using Args = std::tuple<std::decay_t<A>...>;
    Args args(std::forward<A>(a)...);
    bool ok = true;
    int index = 0;
    std::apply([&](auto&... v) { ((ok = check(v, index++) && ok), ...); }, args);
    if (!ok) return;
    Call<Body, Args> call{&body, &args};
    run_grid(site_, grid_, block_, shared_, stream_, &invoke<Body, Args>, &call);
  }

 private:
  template <class Body, class Args>
  struct Call {
    Body* body;
    Args* args;
  };
  template <class Body, class Args>
  static void invoke(void* p) {
    auto* c = static_cast<Call<Body, Args>*>(p);
    std::apply(*c->body, *c->args);
  }
  template <class T>
  bool check(const T& v, int index) {
    if constexpr (std::is_pointer_v<T>) return check_pointer_argument(site_, index, static_cast<const void*>(v), stream_);
    else return true;
  }

  KernelSite site_;
  dim3 grid_, block_;
  size_t shared_;
  cudaStream_t stream_;
};

// Static and dynamic shared memory (the rewrite of `__shared__ T name[N];` and
// `extern __shared__ T name[];`).
template <class T>
T& shared_var(const char* key) {
  return *static_cast<T*>(shared_static(key, sizeof(T)));
}
template <class T>
T* dynamic_shared() {
  return static_cast<T*>(curec_emu::shared_dynamic());
}

template <class T>
T atomic_add(T* p, T v) {
  return std::atomic_ref<T>(*p).fetch_add(v);
}
template <class T>
T atomic_update(T* p, T v, T (*f)(T, T)) {
  std::atomic_ref<T> a(*p);
  T old = a.load();
  while (!a.compare_exchange_weak(old, f(old, v))) {
  }
  return old;
}
template <class T>
T atomic_cas(T* p, T expected, T desired) {
  std::atomic_ref<T>(*p).compare_exchange_strong(expected, desired);
  return expected;  // the old value, whether or not it was replaced
}

}  // namespace curec_emu

// The runtime's kernel-typed overloads (cuda_runtime.h declares them only for nvcc).
template <class T>
inline cudaError_t cudaFuncSetAttribute(T* kernel, cudaFuncAttribute attr, int value) {
  return ::cudaFuncSetAttribute(reinterpret_cast<const void*>(kernel), attr, value);
}

// ---- atomics (the overloads CUDA declares) ----
#define CUREC_EMU_ATOMIC_ADD(T) \
  inline T atomicAdd(T* p, T v) { return ::curec_emu::atomic_add(p, v); }
CUREC_EMU_ATOMIC_ADD(int)
CUREC_EMU_ATOMIC_ADD(unsigned int)
CUREC_EMU_ATOMIC_ADD(unsigned long long)
CUREC_EMU_ATOMIC_ADD(float)
CUREC_EMU_ATOMIC_ADD(double)
#undef CUREC_EMU_ATOMIC_ADD
inline int atomicSub(int* p, int v) { return ::curec_emu::atomic_add(p, -v); }
inline unsigned atomicSub(unsigned* p, unsigned v) { return ::curec_emu::atomic_add(p, 0u - v); }
#define CUREC_EMU_ATOMIC_INT(T)                                                                                        \
  inline T atomicMin(T* p, T v) { return ::curec_emu::atomic_update<T>(p, v, [](T a, T b) { return a < b ? a : b; }); } \
  inline T atomicMax(T* p, T v) { return ::curec_emu::atomic_update<T>(p, v, [](T a, T b) { return a > b ? a : b; }); } \
  inline T atomicCAS(T* p, T expected, T desired) { return ::curec_emu::atomic_cas(p, expected, desired); }           \
  inline T atomicExch(T* p, T v) { return std::atomic_ref<T>(*p).exchange(v); }                                      \
  inline T atomicAnd(T* p, T v) { return std::atomic_ref<T>(*p).fetch_and(v); }                                      \
  inline T atomicOr(T* p, T v) { return std::atomic_ref<T>(*p).fetch_or(v); }                                        \
  inline T atomicXor(T* p, T v) { return std::atomic_ref<T>(*p).fetch_xor(v); }
CUREC_EMU_ATOMIC_INT(int)
CUREC_EMU_ATOMIC_INT(unsigned int)
CUREC_EMU_ATOMIC_INT(long long)
CUREC_EMU_ATOMIC_INT(unsigned long long)
#undef CUREC_EMU_ATOMIC_INT
inline float atomicExch(float* p, float v) { return std::atomic_ref<float>(*p).exchange(v); }
inline unsigned atomicInc(unsigned* p, unsigned limit) {
  return ::curec_emu::atomic_update<unsigned>(p, limit, [](unsigned old, unsigned l) { return old >= l ? 0u : old + 1; });
}

// ---- arithmetic intrinsics: IEEE round-to-nearest, never fused ----
inline float __fadd_rn(float a, float b) { return a + b; }
inline float __fsub_rn(float a, float b) { return a - b; }
inline float __fmul_rn(float a, float b) { return a * b; }
inline float __fdiv_rn(float a, float b) { return a / b; }
inline float __fmaf_rn(float a, float b, float c) { return std::fma(a, b, c); }
inline float __frcp_rn(float a) { return 1.0f / a; }
inline float __fsqrt_rn(float a) { return std::sqrt(a); }
inline double __dadd_rn(double a, double b) { return a + b; }
inline double __dmul_rn(double a, double b) { return a * b; }
inline float __fdividef(float a, float b) { return a / b; }
inline float __expf(float a) { return std::exp(a); }
inline float __logf(float a) { return std::log(a); }
inline float __powf(float a, float b) { return std::pow(a, b); }
inline float __saturatef(float a) { return a < 0.0f ? 0.0f : a > 1.0f ? 1.0f : a; }
inline float rsqrtf(float a) { return 1.0f / std::sqrt(a); }
inline int __float2int_rn(float a) { return static_cast<int>(std::nearbyint(a)); }
inline float __int_as_float(int a) { return std::bit_cast<float>(a); }
inline int __float_as_int(float a) { return std::bit_cast<int>(a); }
inline unsigned __float_as_uint(float a) { return std::bit_cast<unsigned>(a); }
inline float __uint_as_float(unsigned a) { return std::bit_cast<float>(a); }
inline int __popc(unsigned a) { return __builtin_popcount(a); }
inline int __popcll(unsigned long long a) { return __builtin_popcountll(a); }
inline int __clz(int a) { return a ? __builtin_clz(static_cast<unsigned>(a)) : 32; }
inline int __ffs(int a) { return __builtin_ffs(a); }
template <class T>
T __ldg(const T* p) {
  return *p;
}
inline unsigned __lanemask_lt() { return (1u << ::curec_emu::lane_id()) - 1u; }

// CUDA's min/max overloads of device code (mixed integer types take the common type).
template <class A, class B, class = std::enable_if_t<std::is_arithmetic_v<A> && std::is_arithmetic_v<B>>>
inline std::common_type_t<A, B> min(A a, B b) {
  using C = std::common_type_t<A, B>;
  return static_cast<C>(a) < static_cast<C>(b) ? static_cast<C>(a) : static_cast<C>(b);
}
template <class A, class B, class = std::enable_if_t<std::is_arithmetic_v<A> && std::is_arithmetic_v<B>>>
inline std::common_type_t<A, B> max(A a, B b) {
  using C = std::common_type_t<A, B>;
  return static_cast<C>(a) > static_cast<C>(b) ? static_cast<C>(a) : static_cast<C>(b);
}
