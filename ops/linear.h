#pragma once
// Fully connected layer: x [batch, in] . weight [out, in]^T + bias [out] -> [batch, out].
#include "core/tensor.h"

namespace curec {

// `bias` may be undefined (no bias).
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor());

}  // namespace curec
