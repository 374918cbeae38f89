#pragma once
// The one place where an op picks its backend: by the device its inputs live on, the CPU
// reference or the CUDA kernel. Kernel entry points are declared in every build (their headers'
// `namespace cuda`); in a build without CUDA the CUDA branch below is discarded at compile time,
// so nothing names an undefined kernel, and a CUDA device reaching an op is the one error
// fail_without_cuda gives, the same for every op. Each op's dispatch is then one call:
//
//   dispatch("fm_interaction", e.device(),
//            [&] { fm_forward_cpu(...); },
//            [&](int dev) { cuda::fm_forward(..., dev); });
#include "core/device.h"

namespace curec {

#if CUREC_WITH_CUDA
inline constexpr bool kBuiltWithCuda = true;
#else
inline constexpr bool kBuiltWithCuda = false;
#endif

// "<op>: <device> given, but curec was built without CUDA (configure with -DCUREC_CUDA=ON)".
[[noreturn]] void fail_without_cuda(const char* op, Device device);

// cpu() on the CPU; cuda(device index) on a CUDA device. Both return the same type.
template <class Cpu, class Cuda>
decltype(auto) dispatch(const char* op, Device device, Cpu&& cpu, Cuda&& cuda) {
  if (device.is_cuda()) {
    if constexpr (kBuiltWithCuda) return cuda(device.index);
    else fail_without_cuda(op, device);
  }
  return cpu();
}

}  // namespace curec
