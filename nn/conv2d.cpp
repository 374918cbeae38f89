#include "nn/conv2d.h"

#include <cmath>

#include "nn/init.h"
#include "ops/conv2d.h"

namespace curec::nn {

Conv2d::Conv2d(int64_t in_channels, int64_t out_channels, int64_t kernel_h, int64_t kernel_w, Conv2dOptions options,
               Generator& gen) {
  CUREC_CHECK(in_channels > 0 && out_channels > 0 && kernel_h > 0 && kernel_w > 0,
              "Conv2d: channels and kernel sizes must be positive, got in ", in_channels, ", out ", out_channels,
              ", kernel ", kernel_h, " x ", kernel_w);
  weight = Tensor::empty({out_channels, in_channels, kernel_h, kernel_w});
  kaiming_uniform_(weight, std::sqrt(5.0f), gen);
  register_parameter("weight", weight);
  if (options.bias) {
    float bound = 1.0f / std::sqrt(static_cast<float>(fans(weight.shape()).in));
    bias = Tensor::empty({out_channels});
    uniform_(bias, -bound, bound, gen);
    register_parameter("bias", bias);
  }
}

Tensor Conv2d::forward(const Tensor& x) { return conv2d(x, weight, bias); }

}  // namespace curec::nn
