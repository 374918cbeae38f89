#pragma once
// Sum and mean over all elements or over one dimension (keepdim keeps it as size 1).
// Deterministic on both backends: a fixed reduction order, no atomics.
#include "core/tensor.h"

namespace curec {

Tensor sum(const Tensor& x);
Tensor sum(const Tensor& x, int64_t dim, bool keepdim = false);
Tensor mean(const Tensor& x);
Tensor mean(const Tensor& x, int64_t dim, bool keepdim = false);

// Un-differentiable building blocks, also used by other ops' backward passes: x viewed as
// [outer, d, inner] reduced over d into [outer, inner] (sum), and the reverse broadcast.
Tensor reduce_sum_3d(const Tensor& x, int64_t outer, int64_t d, int64_t inner);
Tensor expand_3d(const Tensor& g, int64_t outer, int64_t d, int64_t inner, const Shape& out_shape);

namespace cuda {
void reduce_sum(const float* x, float* out, int64_t outer, int64_t d, int64_t inner, int device);
void expand(const float* g, float* out, int64_t outer, int64_t d, int64_t inner, int device);
}  // namespace cuda

}  // namespace curec
