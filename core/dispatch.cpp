#include "core/dispatch.h"

#include "core/error.h"

namespace curec {

void fail_without_cuda(const char* op, Device device) {
  CUREC_FAIL(op, ": ", device.str(), " given, but curec was built without CUDA (configure with -DCUREC_CUDA=ON)");
}

}  // namespace curec
