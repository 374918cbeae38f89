#pragma once
// x with `value` wherever mask is nonzero: mask is u8 or f32, of x's shape or broadcastable to it
// by NumPy's rules (a key-padding mask [B, 1, L] over scores [B, L, L]); the result has x's
// shape (up to 4 dims). The gradient flows to x where the mask is zero; the mask takes none.
#include "core/tensor.h"
#include "ops/broadcast_math.h"

namespace curec {

Tensor masked_fill(const Tensor& x, const Tensor& mask, float value);

namespace cuda {
// out[i] = mask at ix's b-offset of i nonzero ? value : x[i] (ix's a-side reads x in full).
void masked_fill(const float* x, const void* mask, bool mask_is_u8, float* out, int64_t n, const ew::NdIndex& ix,
                 float value, int device);
}  // namespace cuda

}  // namespace curec
