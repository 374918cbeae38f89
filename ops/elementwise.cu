#include "core/cuda_context.h"
#include "ops/elementwise.h"

namespace curec::cuda {
namespace {

template <Unary op>
__global__ void unary_fwd(const float* x, float* y, int64_t n, float alpha) {
  CUREC_GRID_LOOP(i, n) y[i] = ew::unary(op, x[i], alpha);
}
template <Unary op>
__global__ void unary_bwd(const float* x, const float* y, const float* g, float* dx, int64_t n, float alpha) {
  CUREC_GRID_LOOP(i, n) dx[i] = ew::unary_grad(op, x[i], y[i], g[i], alpha);
}
template <Binary op>
__global__ void binary_fwd(const float* a, ew::Bcast ma, const float* b, ew::Bcast mb, float* out, int64_t n,
                           int64_t cols) {
  CUREC_GRID_LOOP(i, n) out[i] = ew::binary(op, a[ew::bcast_index(ma, i, cols)], b[ew::bcast_index(mb, i, cols)]);
}
template <Binary op>
__global__ void binary_bwd(const float* a, ew::Bcast ma, const float* b, ew::Bcast mb, const float* g, float* da,
                           float* db, int64_t n, int64_t cols) {
  CUREC_GRID_LOOP(i, n) {
    float va = a[ew::bcast_index(ma, i, cols)], vb = b[ew::bcast_index(mb, i, cols)];
    if (da) da[i] = ew::binary_grad_a(op, va, vb, g[i]);
    if (db) db[i] = ew::binary_grad_b(op, va, vb, g[i]);
  }
}

template <Binary op>
__global__ void binary_fwd_nd(const float* a, const float* b, float* out, int64_t n, ew::NdIndex ix) {
  CUREC_GRID_LOOP(i, n) {
    int64_t ia, ib;
    ew::nd_offsets(ix, i, &ia, &ib);
    out[i] = ew::binary(op, a[ia], b[ib]);
  }
}
template <Binary op>
__global__ void binary_bwd_nd(const float* a, const float* b, const float* g, float* da, float* db, int64_t n,
                              ew::NdIndex ix) {
  CUREC_GRID_LOOP(i, n) {
    int64_t ia, ib;
    ew::nd_offsets(ix, i, &ia, &ib);
    if (da) da[i] = ew::binary_grad_a(op, a[ia], b[ib], g[i]);
    if (db) db[i] = ew::binary_grad_b(op, a[ia], b[ib], g[i]);
  }
}

// Instantiates `kernel<op>` for the runtime op, so each kernel has its switch folded away.
#define CUREC_UNARY_CASES(X) \
  X(neg) X(exp) X(log) X(sqrt) X(square) X(sign) X(sigmoid) X(tanh) X(relu) X(elu) X(gelu)
#define CUREC_BINARY_CASES(X) X(add) X(sub) X(mul) X(div)

}  // namespace

void unary_forward(Unary op, const float* x, float* y, int64_t n, float alpha, int device) {
  if (!n) return;
  DeviceGuard guard(device);
  cudaStream_t s = current_stream(device);
  switch (op) {
#define X(name) case Unary::name: unary_fwd<Unary::name><<<grid_for(n), 256, 0, s>>>(x, y, n, alpha); break;
    CUREC_UNARY_CASES(X)
#undef X
  }
  CUREC_KERNEL_CHECK();
}

void unary_backward(Unary op, const float* x, const float* y, const float* g, float* dx, int64_t n, float alpha,
                    int device) {
  if (!n) return;
  DeviceGuard guard(device);
  cudaStream_t s = current_stream(device);
  switch (op) {
#define X(name) case Unary::name: unary_bwd<Unary::name><<<grid_for(n), 256, 0, s>>>(x, y, g, dx, n, alpha); break;
    CUREC_UNARY_CASES(X)
#undef X
  }
  CUREC_KERNEL_CHECK();
}

void binary_forward(Binary op, const float* a, ew::Bcast ma, const float* b, ew::Bcast mb, float* out, int64_t n,
                    int64_t cols, int device) {
  if (!n) return;
  DeviceGuard guard(device);
  cudaStream_t s = current_stream(device);
  switch (op) {
#define X(name) case Binary::name: binary_fwd<Binary::name><<<grid_for(n), 256, 0, s>>>(a, ma, b, mb, out, n, cols); break;
    CUREC_BINARY_CASES(X)
#undef X
  }
  CUREC_KERNEL_CHECK();
}

void binary_backward(Binary op, const float* a, ew::Bcast ma, const float* b, ew::Bcast mb, const float* g,
                     float* da, float* db, int64_t n, int64_t cols, int device) {
  if (!n) return;
  DeviceGuard guard(device);
  cudaStream_t s = current_stream(device);
  switch (op) {
#define X(name) case Binary::name: binary_bwd<Binary::name><<<grid_for(n), 256, 0, s>>>(a, ma, b, mb, g, da, db, n, cols); break;
    CUREC_BINARY_CASES(X)
#undef X
  }
  CUREC_KERNEL_CHECK();
}

void binary_forward_nd(Binary op, const float* a, const float* b, float* out, int64_t n, const ew::NdIndex& ix,
                       int device) {
  if (!n) return;
  DeviceGuard guard(device);
  cudaStream_t s = current_stream(device);
  switch (op) {
#define X(name) case Binary::name: binary_fwd_nd<Binary::name><<<grid_for(n), 256, 0, s>>>(a, b, out, n, ix); break;
    CUREC_BINARY_CASES(X)
#undef X
  }
  CUREC_KERNEL_CHECK();
}

void binary_backward_nd(Binary op, const float* a, const float* b, const float* g, float* da, float* db, int64_t n,
                        const ew::NdIndex& ix, int device) {
  if (!n) return;
  DeviceGuard guard(device);
  cudaStream_t s = current_stream(device);
  switch (op) {
#define X(name) case Binary::name: binary_bwd_nd<Binary::name><<<grid_for(n), 256, 0, s>>>(a, b, g, da, db, n, ix); break;
    CUREC_BINARY_CASES(X)
#undef X
  }
  CUREC_KERNEL_CHECK();
}

}  // namespace curec::cuda
