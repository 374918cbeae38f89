#pragma once
// 2-D convolution layer (stride 1, no padding, as ops/conv2d.h): [N, C, H, W] ->
// [N, O, H - kh + 1, W - kw + 1]. Default init as PyTorch's nn.Conv2d: weight and bias
// U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in = C * kh * kw, drawn from `gen` (the thread's
// default generator unless given).
//   nn::Conv2d conv(1, 16, 3, 8);              nn::Conv2d plain(1, 16, 3, 8, {.bias = false}, gen);
#include "core/generator.h"
#include "nn/module.h"

namespace curec::nn {

struct Conv2dOptions {
  bool bias = true;  // false: no per-channel bias
};

class Conv2d : public Layer {
 public:
  Conv2d(int64_t in_channels, int64_t out_channels, int64_t kernel_h, int64_t kernel_w, Conv2dOptions options = {},
         Generator& gen = default_generator());
  Tensor forward(const Tensor& x) override;

  Tensor weight;  // [out, in, kh, kw]
  Tensor bias;    // [out], undefined without bias
};

}  // namespace curec::nn
