#include "nn/max_pool.h"

#include "ops/max_pool.h"

namespace curec::nn {

MaxPool1d::MaxPool1d(int64_t kernel, int64_t stride) : kernel_(kernel), stride_(stride) {
  CUREC_CHECK(kernel > 0 && stride >= 0, "MaxPool1d: kernel must be > 0 and stride >= 0, got ", kernel, ", ", stride);
}

Tensor MaxPool1d::forward(const Tensor& x) { return max_pool1d(x, kernel_, stride_); }

}  // namespace curec::nn
