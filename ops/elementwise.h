#pragma once
// Elementwise ops. Binary ops broadcast as NumPy does, over up to 4 dims: shapes aligned from
// the right, a size-1 dim stretched to the other's size ([B, 1, L] with [B, L, 1] gives
// [B, L, L]). The forms the chapter's models use run on fast paths of their own, with two rules
// that extend NumPy's, kept from before: a single element broadcasts as a scalar (the result
// has the other operand's shape, whatever the element's rank), and a tensor of the leading dims
// [...] against [..., n] is a column (one value per row) where NumPy cannot broadcast the pair:
// [m] with [m, n] works for m != n, while [3] with [3, 3] and [3, 3] with [3, 3, 3] mean what
// they mean in NumPy. Gradients of a broadcast operand are summed back.
#include "core/tensor.h"
#include "ops/broadcast_math.h"
#include "ops/elementwise_math.h"

namespace curec {

Tensor unary(Unary op, const Tensor& x, float alpha = 1.0f);
inline Tensor neg(const Tensor& x) { return unary(Unary::neg, x); }
inline Tensor exp(const Tensor& x) { return unary(Unary::exp, x); }
inline Tensor log(const Tensor& x) { return unary(Unary::log, x); }
inline Tensor sqrt(const Tensor& x) { return unary(Unary::sqrt, x); }
inline Tensor square(const Tensor& x) { return unary(Unary::square, x); }
inline Tensor sign(const Tensor& x) { return unary(Unary::sign, x); }
inline Tensor sigmoid(const Tensor& x) { return unary(Unary::sigmoid, x); }
inline Tensor tanh(const Tensor& x) { return unary(Unary::tanh, x); }
inline Tensor relu(const Tensor& x) { return unary(Unary::relu, x); }
inline Tensor elu(const Tensor& x, float alpha = 1.0f) { return unary(Unary::elu, x, alpha); }
// x Φ(x) with the exact normal CDF (erf), PyTorch's default GELU.
inline Tensor gelu(const Tensor& x) { return unary(Unary::gelu, x); }

Tensor binary(Binary op, const Tensor& a, const Tensor& b);
inline Tensor add(const Tensor& a, const Tensor& b) { return binary(Binary::add, a, b); }
inline Tensor sub(const Tensor& a, const Tensor& b) { return binary(Binary::sub, a, b); }
inline Tensor mul(const Tensor& a, const Tensor& b) { return binary(Binary::mul, a, b); }
inline Tensor div(const Tensor& a, const Tensor& b) { return binary(Binary::div, a, b); }
// With a constant: a op c and c op a.
Tensor binary(Binary op, const Tensor& a, float c);
Tensor binary(Binary op, float c, const Tensor& b);

inline Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
inline Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
inline Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
inline Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
inline Tensor operator-(const Tensor& a) { return neg(a); }
inline Tensor operator+(const Tensor& a, float c) { return binary(Binary::add, a, c); }
inline Tensor operator-(const Tensor& a, float c) { return binary(Binary::sub, a, c); }
inline Tensor operator*(const Tensor& a, float c) { return binary(Binary::mul, a, c); }
inline Tensor operator/(const Tensor& a, float c) { return binary(Binary::div, a, c); }
inline Tensor operator+(float c, const Tensor& b) { return binary(Binary::add, c, b); }
inline Tensor operator-(float c, const Tensor& b) { return binary(Binary::sub, c, b); }
inline Tensor operator*(float c, const Tensor& b) { return binary(Binary::mul, c, b); }
inline Tensor operator/(float c, const Tensor& b) { return binary(Binary::div, c, b); }

namespace cuda {
void unary_forward(Unary op, const float* x, float* y, int64_t n, float alpha, int device);
void unary_backward(Unary op, const float* x, const float* y, const float* g, float* dx, int64_t n, float alpha,
                    int device);
void binary_forward(Binary op, const float* a, ew::Bcast ma, const float* b, ew::Bcast mb, float* out, int64_t n,
                    int64_t cols, int device);
// Gradient of each operand at full output size (before summing broadcast dims); either may be null.
void binary_backward(Binary op, const float* a, ew::Bcast ma, const float* b, ew::Bcast mb, const float* g,
                     float* da, float* db, int64_t n, int64_t cols, int device);
// General broadcasting (ops/broadcast_math.h).
void binary_forward_nd(Binary op, const float* a, const float* b, float* out, int64_t n, const ew::NdIndex& ix,
                       int device);
void binary_backward_nd(Binary op, const float* a, const float* b, const float* g, float* da, float* db, int64_t n,
                        const ew::NdIndex& ix, int device);
}  // namespace cuda

}  // namespace curec
