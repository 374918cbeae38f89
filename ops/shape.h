#pragma once
// Differentiable views: the result shares storage with the input (Tensor::view) and only the
// shape changes, so there are no kernels and CPU and CUDA run the same code. The backward views
// the gradient back to the input's shape. Negative dims count from the end.
#include "core/tensor.h"

namespace curec {

// One entry of `shape` may be -1: it is inferred from the element count.
Tensor reshape(const Tensor& x, const Shape& shape);
// Removes `dim`, which must have size 1.
Tensor squeeze(const Tensor& x, int64_t dim);
// Inserts a dimension of size 1 before `dim` (dim == x.dim() appends one).
Tensor unsqueeze(const Tensor& x, int64_t dim);
// Merges dims start_dim..end into one: [b, c, h, w] -> [b, c*h*w] for start_dim = 1.
Tensor flatten(const Tensor& x, int64_t start_dim = 1);

}  // namespace curec
