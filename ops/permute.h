#pragma once
// Reordering dims into a contiguous result (curec keeps tensors contiguous, with no strided
// views): y = permute(x, dims) has y.size(i) == x.size(dims[i]); transpose(x, d0, d1) swaps two
// dims. Up to 4 dims; negative dims count from the end. The backward permutes the gradient back
// by the inverse order.
#include <vector>

#include "core/philox.h"  // CUREC_HD
#include "core/tensor.h"

namespace curec {

Tensor permute(const Tensor& x, const std::vector<int64_t>& dims);
Tensor transpose(const Tensor& x, int64_t d0, int64_t d1);

// The output's sizes padded on the left with 1s to 4 dims, and for each, the stride of the
// input dim it reads (0 for padding): what both backends walk.
struct PermuteIndex {
  int64_t size[4];
  int64_t stride[4];
};

// The input offset of the output's element i.
CUREC_HD int64_t permute_offset(const PermuteIndex& p, int64_t i) {
  int64_t off = 0;
  for (int d = 3; d >= 0; --d) {
    off += i % p.size[d] * p.stride[d];
    i /= p.size[d];
  }
  return off;
}

namespace cuda {
void permute(const float* x, float* y, int64_t n, const PermuteIndex& p, int device);
}  // namespace cuda

}  // namespace curec
