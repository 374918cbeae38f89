#pragma once
// The maximum over one dimension and where it is: values, and indices (i64) along that dim,
// each [outer, inner] with the dim removed (kept as size 1 with keepdim). The first maximum wins
// a tie, and a NaN beats every number (as max pooling, ops/max_pool_math.h). The backward routes
// each value's gradient to its argmax; the indices take none.
#include "core/philox.h"  // CUREC_HD
#include "core/tensor.h"

namespace curec {

struct MaxResult {
  Tensor values;   // f32
  Tensor indices;  // i64
};
MaxResult max(const Tensor& x, int64_t dim, bool keepdim = false);

// Index j < d of the first maximum of x[0], x[inner], ..., x[(d - 1) * inner]; the first NaN wins.
CUREC_HD int64_t strided_argmax(const float* x, int64_t d, int64_t inner) {
  int64_t best = 0;
  for (int64_t j = 1; j < d; ++j) {
    const float v = x[j * inner], b = x[best * inner];
    if (v > b || (v != v && b == b)) best = j;
  }
  return best;
}

namespace cuda {
// x viewed as [outer, d, inner]; values and indices [outer, inner].
void max_forward(const float* x, float* values, int64_t* indices, int64_t outer, int64_t d, int64_t inner,
                 int device);
// dx (zeroed, [outer, d, inner]) gets g at each argmax.
void max_backward(const float* g, const int64_t* indices, float* dx, int64_t outer, int64_t d, int64_t inner,
                  int device);
}  // namespace cuda

}  // namespace curec
