#pragma once
// 1-D max pooling over the last dimension (ops/max_pool.h); stride 0 means stride = kernel.
#include "nn/module.h"

namespace curec::nn {

class MaxPool1d : public Layer {
 public:
  explicit MaxPool1d(int64_t kernel, int64_t stride = 0);
  Tensor forward(const Tensor& x) override;

 private:
  int64_t kernel_, stride_;
};

}  // namespace curec::nn
