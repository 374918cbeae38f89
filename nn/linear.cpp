#include "nn/linear.h"

#include <cmath>

#include "nn/init.h"
#include "ops/linear.h"

namespace curec::nn {

Linear::Linear(int64_t in_features, int64_t out_features, LinearOptions options, Generator& gen)
    : in_(in_features), out_(out_features) {
  CUREC_CHECK(in_features > 0 && out_features > 0, "Linear: sizes must be positive, got in ", in_features, ", out ",
              out_features);
  weight = Tensor::empty({out_features, in_features});
  kaiming_uniform_(weight, std::sqrt(5.0f), gen);
  register_parameter("weight", weight);
  if (options.bias) {
    float bound = 1.0f / std::sqrt(static_cast<float>(in_features));
    bias = Tensor::empty({out_features});
    uniform_(bias, -bound, bound, gen);
    register_parameter("bias", bias);
  }
}

Tensor Linear::forward(const Tensor& x) { return linear(x, weight, bias); }

}  // namespace curec::nn
