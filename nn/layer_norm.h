#pragma once
// Layer normalisation over the last `normalized_shape` entries of each input row, as PyTorch's
// nn.LayerNorm over one dimension: weight starts at ones, bias at zeros.
//   nn::LayerNorm norm(d);                     nn::LayerNorm plain(d, {.affine = false});
#include "nn/module.h"

namespace curec::nn {

struct LayerNormOptions {
  float eps = 1e-5f;
  bool affine = true;  // false: no weight or bias, y = x̂
};

class LayerNorm : public Layer {
 public:
  explicit LayerNorm(int64_t normalized_shape, LayerNormOptions options = {});
  Tensor forward(const Tensor& x) override;

  int64_t normalized_shape() const { return size_; }
  float eps() const { return eps_; }

  Tensor weight;  // [normalized_shape], undefined without affine
  Tensor bias;    // [normalized_shape], undefined without affine

 private:
  int64_t size_;
  float eps_;
};

}  // namespace curec::nn
