#include "core/device.h"

#include <charconv>
#include <limits>

#include "core/error.h"
#if CUREC_WITH_CUDA
#include "core/cuda_context.h"
#endif

namespace curec {

Device Device::parse(std::string_view text) {
  if (text == "cpu") return cpu();
  if (text == "cuda") return cuda(0);
  if (text.starts_with("cuda:")) {
    const std::string_view rest = text.substr(5);
    int idx = 0;
    const bool digits = !rest.empty() && rest.find_first_not_of("0123456789") == std::string_view::npos;
    if (digits) {
      auto r = std::from_chars(rest.data(), rest.data() + rest.size(), idx);
      CUREC_CHECK(r.ec == std::errc(), "device '", text, "': index ", rest, " is out of range (at most ",
                  std::numeric_limits<int>::max(), "); use cpu, cuda or cuda:N with N a GPU's index");
      return cuda(idx);
    }
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
