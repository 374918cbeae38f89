#include "core/device.h"

#include "core/error.h"
#if CUREC_WITH_CUDA
#include "core/cuda_context.h"
#endif

namespace curec {

Device Device::parse(std::string_view text) {
  if (text == "cpu") return cpu();
  if (text == "cuda") return cuda(0);
  if (text.starts_with("cuda:")) {
    auto rest = text.substr(5);
    int idx = 0;
    bool ok = !rest.empty();
    for (char c : rest) {
      if (c < '0' || c > '9') ok = false;
      else idx = idx * 10 + (c - '0');
    }
    if (ok) return cuda(idx);
  }
  CUREC_FAIL("unknown device '", text, "': use cpu, cuda or cuda:N");
}

std::string Device::str() const { return is_cpu() ? "cpu" : "cuda:" + std::to_string(index); }

bool built_with_cuda() {
#if CUREC_WITH_CUDA
  return true;
#else
  return false;
#endif
}

int cuda_device_count() {
#if CUREC_WITH_CUDA
  return cuda::device_count();
#else
  return 0;
#endif
}

void synchronize(Device d) {
  if (!d.is_cuda()) return;
#if CUREC_WITH_CUDA
  cuda::synchronize(d.index);
#endif
}

}  // namespace curec
