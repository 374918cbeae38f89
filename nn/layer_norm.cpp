#include "nn/layer_norm.h"

#include <cmath>

#include "ops/layer_norm.h"

namespace curec::nn {

LayerNorm::LayerNorm(int64_t normalized_shape, LayerNormOptions options)
    : size_(normalized_shape), eps_(options.eps) {
  CUREC_CHECK(normalized_shape > 0, "LayerNorm: normalized_shape must be positive, got ", normalized_shape);
  CUREC_CHECK(options.eps >= 0.0f && std::isfinite(options.eps), "LayerNorm: eps = ", options.eps,
              " must be finite and non-negative");
  if (options.affine) {
    weight = Tensor::ones({normalized_shape});
    bias = Tensor::zeros({normalized_shape});
    register_parameter("weight", weight);
    register_parameter("bias", bias);
  }
}

Tensor LayerNorm::forward(const Tensor& x) {
  check_defined("LayerNorm", x, "input");
  CUREC_CHECK(x.dim() >= 1 && x.size(-1) == size_, "LayerNorm: input ", x.str(), " must end in a dimension of ",
              size_, " (the normalized_shape this layer was built with)");
  return layer_norm(x, weight, bias, eps_);
}

}  // namespace curec::nn
