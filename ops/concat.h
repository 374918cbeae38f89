#pragma once
// Joining and cutting f32 tensors along one dim. Around `dim` a tensor is viewed as
// [outer, size(dim) * inner], so every one of these is a copy of [outer, len] blocks between
// rows of different strides, one kernel for all of them and their backward passes.
#include <vector>

#include "core/tensor.h"

namespace curec {

// Inputs must agree on every dim except `dim`.
Tensor concat(const std::vector<Tensor>& xs, int64_t dim = 1);
// A copy of x[..., start:start+length, ...] along `dim`.
Tensor narrow(const Tensor& x, int64_t dim, int64_t start, int64_t length);
// Consecutive pieces along `dim`; `sizes` must add up to x.size(dim).
std::vector<Tensor> split(const Tensor& x, const std::vector<int64_t>& sizes, int64_t dim = 1);

// Un-differentiable building block: dst[o * dst_stride + i] = src[o * src_stride + i] for
// o < outer, i < len (strides in elements). Pointers are on `device`.
void copy_block(const float* src, int64_t src_stride, float* dst, int64_t dst_stride, int64_t outer, int64_t len,
                Device device);

namespace cuda {
void copy_block(const float* src, int64_t src_stride, float* dst, int64_t dst_stride, int64_t outer, int64_t len,
                int device);
}  // namespace cuda

}  // namespace curec
