#include "ops/linear.h"

#include "ops/elementwise.h"
#include "ops/matmul.h"

namespace curec {

// Composed from matmul (weight read transposed in place by the BLAS) and the row-broadcast add,
// so it needs no kernels and no backward of its own; the bias gradient is the column sum the
// add's backward already computes.
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias) {
  check_defined("linear", x, "x");
  check_defined("linear", weight, "weight");
  CUREC_CHECK(x.dim() == 2 && weight.dim() == 2, "linear: needs x [batch, in] and weight [out, in], got x ",
              x.str(), " and weight ", weight.str());
  CUREC_CHECK(x.size(1) == weight.size(1), "linear: x ", x.str(), " has ", x.size(1), " features but weight ",
              weight.str(), " expects ", weight.size(1), " (weight is [out, in])");
  Tensor y = matmul(x, weight, false, true);
  if (!bias.defined()) return y;
  CUREC_CHECK(bias.dim() == 1 && bias.size(0) == weight.size(0), "linear: bias ", bias.str(), " must be [",
              weight.size(0), "] to match weight ", weight.str());
  if (y.numel() == 0) return y;  // an empty batch: nothing to add, and add cannot broadcast [0, out]
  return add(y, bias);
}

}  // namespace curec
