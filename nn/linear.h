#pragma once
// Fully connected layer y = x W^T + b, W [out, in]. Default init as PyTorch's nn.Linear:
// W ~ U(-1/sqrt(in), 1/sqrt(in)) (kaiming_uniform_ with a = sqrt(5)), b ~ the same range, drawn
// from `gen` (the thread's default generator unless given). Re-initialise `weight` / `bias` with
// nn/init.h to override.
//   nn::Linear head(k, 1);                     nn::Linear proj(k, k, {.bias = false}, gen);
#include "core/generator.h"
#include "nn/module.h"

namespace curec::nn {

struct LinearOptions {
  bool bias = true;  // false: y = x W^T
};

class Linear : public Layer {
 public:
  Linear(int64_t in_features, int64_t out_features, LinearOptions options = {}, Generator& gen = default_generator());
  Tensor forward(const Tensor& x) override;

  int64_t in_features() const { return in_; }
  int64_t out_features() const { return out_; }

  Tensor weight;  // [out, in]
  Tensor bias;    // [out], undefined without bias

 private:
  int64_t in_, out_;
};

}  // namespace curec::nn
