#pragma once
// Rows of a tensor picked by integer ids, with a dense gradient: the embedding gather and
// scatter applied to a tensor of any rank along dim 0.
#include "core/tensor.h"

namespace curec {

// x f32 [rows, ...]; indices i32 or i64 [n]; returns f32 [n, ...] with out[i] = x[indices[i]].
// Repeated ids are allowed (their gradients add up); an id outside [0, rows) is an error.
Tensor index_select(const Tensor& x, const Tensor& indices);

}  // namespace curec
