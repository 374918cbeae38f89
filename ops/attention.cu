#include <type_traits>

#include "core/cuda_context.h"
#include "ops/attention.h"

// Fused attention, FlashAttention-2's schedule in fp32 on the CUDA cores. A block holds a tile
// of 32 rows (queries, or keys in the dK/dV kernel) and walks the other side in tiles of 32;
// each of its 4 warps owns 8 of the rows, and lane t of a warp owns column t of the 32 × 32
// score tile (one key, or one query). Tiles sit in shared memory as [32][ld] with ld = D | 1, an
// odd stride: lane t reading row t (a dot product over d) and lanes reading one row's d = t,
// t + 32, ... (an update of the accumulators) both hit 32 different banks. A lane keeps its
// rows' accumulators for d = t + 32c, c < NC = ceil(D / 32), in registers.
//
// The backward recomputes the probabilities from the forward's log-sum-exp in two kernels that
// each own what they write (no atomics, the same bits every run): dQ over query tiles, dK and dV
// over key tiles.
namespace curec::cuda {
namespace {

using attention_math::Dims;
using attention_math::Dropout;
using attention_math::Masks;

constexpr int kTile = 32, kWarps = 4, kRowsPerWarp = kTile / kWarps, kThreads = kWarps * 32;
constexpr unsigned kFull = 0xffffffffu;

__device__ float warp_max(float v) {
  for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(kFull, v, o));
  return v;
}
__device__ float warp_sum(float v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(kFull, v, o);
  return v;
}

// Rows first..first+31 of a [rows, D] matrix into tile[32][ld], zeros past the last row.
__device__ void load_tile(float* tile, const float* src, int64_t first, int64_t rows, int D, int ld) {
  for (int t = threadIdx.x; t < kTile * D; t += blockDim.x) {
    const int r = t / D, c = t % D;
    tile[r * ld + c] = first + r < rows ? src[(first + r) * D + c] : 0.0f;
  }
}

__device__ float dot_rows(const float* a, const float* b, int D) {
  float acc = 0.0f;
  for (int c = 0; c < D; ++c) acc += a[c] * b[c];
  return acc;
}

// The scaled score of query i and key j (row ri of tile qt, row rj of tile kt), -inf when
// hidden or outside the problem.
__device__ float score(const Dims& s, const Masks& m, int64_t b, int64_t i, int64_t j, const float* qrow,
                       const float* krow, float scale) {
  if (i >= s.lq || j >= s.lk || attention_math::hidden(m, s, b, i, j)) return -INFINITY;
  return dot_rows(qrow, krow, static_cast<int>(s.d)) * scale;
}

size_t tile_bytes(int tiles, int64_t d) { return static_cast<size_t>(tiles) * kTile * (d | 1) * sizeof(float); }

template <int NC>
__global__ void __launch_bounds__(kThreads) attn_fwd_kernel(const float* __restrict__ q, const float* __restrict__ k,
                                                            const float* __restrict__ v, Dims s, Masks m, Dropout dr,
                                                            float scale, float* __restrict__ out,
                                                            float* __restrict__ lse) {
  extern __shared__ float smem[];
  const int D = static_cast<int>(s.d), ld = D | 1;
  float *qs = smem, *ks = qs + kTile * ld, *vs = ks + kTile * ld;
  const int64_t bh = blockIdx.y, b = bh / s.heads, h = bh % s.heads, i0 = int64_t(blockIdx.x) * kTile;
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  load_tile(qs, q + bh * s.lq * D, i0, s.lq, D, ld);
  float mx[kRowsPerWarp], l[kRowsPerWarp], acc[kRowsPerWarp][NC];
#pragma unroll
  for (int rr = 0; rr < kRowsPerWarp; ++rr) {
    mx[rr] = -INFINITY;
    l[rr] = 0.0f;
#pragma unroll
    for (int c = 0; c < NC; ++c) acc[rr][c] = 0.0f;
  }
  // Under the causal mask no query of this tile sees a key past its last query.
  const int64_t key_end = m.causal ? min(s.lk, i0 + kTile) : s.lk;
  for (int64_t j0 = 0; j0 < key_end; j0 += kTile) {
    __syncthreads();  // the previous tile's readers are done
    load_tile(ks, k + bh * s.lk * D, j0, s.lk, D, ld);
    load_tile(vs, v + bh * s.lk * D, j0, s.lk, D, ld);
    __syncthreads();
    const int64_t j = j0 + lane;
#pragma unroll
    for (int rr = 0; rr < kRowsPerWarp; ++rr) {
      const int r = warp * kRowsPerWarp + rr;
      const int64_t i = i0 + r;
      const float sc = score(s, m, b, i, j, qs + r * ld, ks + lane * ld, scale);
      const float m_new = fmaxf(mx[rr], warp_max(sc));
      // Nothing seen yet (m_new = -inf): every term is 0 and the running state stays as it is.
      const float p = m_new == -INFINITY ? 0.0f : expf(sc - m_new);
      const float alpha = m_new == -INFINITY ? 1.0f : expf(mx[rr] - m_new);
      l[rr] = l[rr] * alpha + warp_sum(p);
      mx[rr] = m_new;
      const float z = p == 0.0f ? 0.0f : p * attention_math::keep_scale(dr, s, b, h, i, j);
#pragma unroll
      for (int c = 0; c < NC; ++c) acc[rr][c] *= alpha;
      for (int t = 0; t < kTile; ++t) {
        const float zt = __shfl_sync(kFull, z, t);
#pragma unroll
        for (int c = 0; c < NC; ++c)
          if (lane + 32 * c < D) acc[rr][c] += zt * vs[t * ld + lane + 32 * c];
      }
    }
  }
#pragma unroll
  for (int rr = 0; rr < kRowsPerWarp; ++rr) {
    const int64_t i = i0 + warp * kRowsPerWarp + rr;
    if (i >= s.lq) continue;
    const float inv = l[rr] > 0.0f ? 1.0f / l[rr] : 0.0f;
#pragma unroll
    for (int c = 0; c < NC; ++c)
      if (lane + 32 * c < D) out[(bh * s.lq + i) * D + lane + 32 * c] = acc[rr][c] * inv;
    if (lane == 0) lse[bh * s.lq + i] = l[rr] > 0.0f ? mx[rr] + logf(l[rr]) : -INFINITY;
  }
}

// delta[row] = dO[row] · O[row] (= Σ_j P ∘ dP over the row, dropout or not): one warp a row.
__global__ void attn_delta_kernel(const float* __restrict__ out, const float* __restrict__ dout,
                                  float* __restrict__ delta, int64_t rows, int64_t d) {
  const int lane = threadIdx.x % 32;
  const int64_t warps = int64_t(gridDim.x) * (blockDim.x / 32);
  for (int64_t r = (blockIdx.x * int64_t(blockDim.x) + threadIdx.x) / 32; r < rows; r += warps) {
    float acc = 0.0f;
    for (int64_t c = lane; c < d; c += 32) acc += out[r * d + c] * dout[r * d + c];
    acc = warp_sum(acc);
    if (lane == 0) delta[r] = acc;
  }
}

// P and dS of (query i, key j): p = exp(score − lse_i), dS = p ∘ (dZ ∘ keep − delta_i); z = p ∘ keep.
struct Recomputed {
  float z, ds;
};
__device__ Recomputed recompute(const Dims& s, const Masks& m, const Dropout& dr, int64_t b, int64_t h, int64_t i,
                                int64_t j, const float* qrow, const float* krow, const float* dorow,
                                const float* vrow, float scale, float lse_i, float delta_i) {
  const float sc = score(s, m, b, i, j, qrow, krow, scale);
  if (sc == -INFINITY || lse_i == -INFINITY) return {0.0f, 0.0f};
  const float p = expf(sc - lse_i), keep = attention_math::keep_scale(dr, s, b, h, i, j);
  const float dz = dot_rows(dorow, vrow, static_cast<int>(s.d));
  return {p * keep, p * (dz * keep - delta_i)};
}

template <int NC>
__global__ void __launch_bounds__(kThreads) attn_dq_kernel(const float* __restrict__ q, const float* __restrict__ k,
                                                           const float* __restrict__ v, const float* __restrict__ lse,
                                                           const float* __restrict__ delta,
                                                           const float* __restrict__ dout, Dims s, Masks m,
                                                           Dropout dr, float scale, float* __restrict__ dq) {
  extern __shared__ float smem[];
  const int D = static_cast<int>(s.d), ld = D | 1;
  float *qs = smem, *dos = qs + kTile * ld, *ks = dos + kTile * ld, *vs = ks + kTile * ld;
  const int64_t bh = blockIdx.y, b = bh / s.heads, h = bh % s.heads, i0 = int64_t(blockIdx.x) * kTile;
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  load_tile(qs, q + bh * s.lq * D, i0, s.lq, D, ld);
  load_tile(dos, dout + bh * s.lq * D, i0, s.lq, D, ld);
  float acc[kRowsPerWarp][NC], row_lse[kRowsPerWarp], row_delta[kRowsPerWarp];
#pragma unroll
  for (int rr = 0; rr < kRowsPerWarp; ++rr) {
    const int64_t i = i0 + warp * kRowsPerWarp + rr;
    row_lse[rr] = i < s.lq ? lse[bh * s.lq + i] : -INFINITY;
    row_delta[rr] = i < s.lq ? delta[bh * s.lq + i] : 0.0f;
#pragma unroll
    for (int c = 0; c < NC; ++c) acc[rr][c] = 0.0f;
  }
  const int64_t key_end = m.causal ? min(s.lk, i0 + kTile) : s.lk;
  for (int64_t j0 = 0; j0 < key_end; j0 += kTile) {
    __syncthreads();
    load_tile(ks, k + bh * s.lk * D, j0, s.lk, D, ld);
    load_tile(vs, v + bh * s.lk * D, j0, s.lk, D, ld);
    __syncthreads();
#pragma unroll
    for (int rr = 0; rr < kRowsPerWarp; ++rr) {
      const int r = warp * kRowsPerWarp + rr;
      const Recomputed x = recompute(s, m, dr, b, h, i0 + r, j0 + lane, qs + r * ld, ks + lane * ld, dos + r * ld,
                                     vs + lane * ld, scale, row_lse[rr], row_delta[rr]);
      for (int t = 0; t < kTile; ++t) {
        const float dst = __shfl_sync(kFull, x.ds, t);
#pragma unroll
        for (int c = 0; c < NC; ++c)
          if (lane + 32 * c < D) acc[rr][c] += dst * ks[t * ld + lane + 32 * c];
      }
    }
  }
#pragma unroll
  for (int rr = 0; rr < kRowsPerWarp; ++rr) {
    const int64_t i = i0 + warp * kRowsPerWarp + rr;
    if (i >= s.lq) continue;
#pragma unroll
    for (int c = 0; c < NC; ++c)
      if (lane + 32 * c < D) dq[(bh * s.lq + i) * D + lane + 32 * c] = acc[rr][c] * scale;
  }
}

// Rows are keys here, lanes queries.
template <int NC>
__global__ void __launch_bounds__(kThreads) attn_dkv_kernel(const float* __restrict__ q, const float* __restrict__ k,
                                                            const float* __restrict__ v, const float* __restrict__ lse,
                                                            const float* __restrict__ delta,
                                                            const float* __restrict__ dout, Dims s, Masks m,
                                                            Dropout dr, float scale, float* __restrict__ dk,
                                                            float* __restrict__ dv) {
  extern __shared__ float smem[];
  const int D = static_cast<int>(s.d), ld = D | 1;
  float *ks = smem, *vs = ks + kTile * ld, *qs = vs + kTile * ld, *dos = qs + kTile * ld;
  const int64_t bh = blockIdx.y, b = bh / s.heads, h = bh % s.heads, j0 = int64_t(blockIdx.x) * kTile;
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  load_tile(ks, k + bh * s.lk * D, j0, s.lk, D, ld);
  load_tile(vs, v + bh * s.lk * D, j0, s.lk, D, ld);
  float gk[kRowsPerWarp][NC], gv[kRowsPerWarp][NC];
#pragma unroll
  for (int rr = 0; rr < kRowsPerWarp; ++rr)
#pragma unroll
    for (int c = 0; c < NC; ++c) gk[rr][c] = gv[rr][c] = 0.0f;
  // Under the causal mask only queries i >= j0 see a key of this tile.
  const int64_t query_begin = m.causal ? j0 / kTile * kTile : 0;
  for (int64_t i0 = query_begin; i0 < s.lq; i0 += kTile) {
    __syncthreads();
    load_tile(qs, q + bh * s.lq * D, i0, s.lq, D, ld);
    load_tile(dos, dout + bh * s.lq * D, i0, s.lq, D, ld);
    __syncthreads();
    const int64_t i = i0 + lane;
    const float lse_i = i < s.lq ? lse[bh * s.lq + i] : -INFINITY;
    const float delta_i = i < s.lq ? delta[bh * s.lq + i] : 0.0f;
#pragma unroll
    for (int rr = 0; rr < kRowsPerWarp; ++rr) {
      const int r = warp * kRowsPerWarp + rr;
      const Recomputed x = recompute(s, m, dr, b, h, i, j0 + r, qs + lane * ld, ks + r * ld, dos + lane * ld,
                                     vs + r * ld, scale, lse_i, delta_i);
      for (int t = 0; t < kTile; ++t) {
        const float zt = __shfl_sync(kFull, x.z, t), dst = __shfl_sync(kFull, x.ds, t);
#pragma unroll
        for (int c = 0; c < NC; ++c)
          if (lane + 32 * c < D) {
            gv[rr][c] += zt * dos[t * ld + lane + 32 * c];
            gk[rr][c] += dst * qs[t * ld + lane + 32 * c];
          }
      }
    }
  }
#pragma unroll
  for (int rr = 0; rr < kRowsPerWarp; ++rr) {
    const int64_t j = j0 + warp * kRowsPerWarp + rr;
    if (j >= s.lk) continue;
#pragma unroll
    for (int c = 0; c < NC; ++c)
      if (lane + 32 * c < D) {
        dk[(bh * s.lk + j) * D + lane + 32 * c] = gk[rr][c] * scale;
        dv[(bh * s.lk + j) * D + lane + 32 * c] = gv[rr][c];
      }
  }
}

// Calls f(std::integral_constant<int, NC>) for the head size: NC = ceil(D / 32) accumulators a lane.
template <class F>
void with_accumulators(int64_t d, F f) {
  switch ((d + 31) / 32) {
    case 1: f(std::integral_constant<int, 1>()); break;
    case 2: f(std::integral_constant<int, 2>()); break;
    case 3: f(std::integral_constant<int, 3>()); break;
    default: f(std::integral_constant<int, 4>()); break;
  }
}

// Dynamic shared memory past the default 48 KiB needs the kernel's consent (D > 96 or so).
template <class F>
void allow_shared(F* kernel, size_t bytes) {
  if (bytes > 48 * 1024)
    CUREC_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(bytes)));
}

__global__ void attn_dropout_kernel(const float* __restrict__ x, float* __restrict__ y, Dims s, Dropout dr,
                                    int64_t n) {
  CUREC_GRID_LOOP(e, n) {
    const int64_t j = e % s.lk, r = e / s.lk;
    const int64_t b = r / (s.heads * s.lq), h = r / s.lq % s.heads, i = r % s.lq;
    y[e] = x[e] * attention_math::keep_scale(dr, s, b, h, i, j);
  }
}

dim3 tiles_grid(int64_t len, const Dims& s) {
  return dim3(static_cast<unsigned>((len + kTile - 1) / kTile), static_cast<unsigned>(s.batch * s.heads));
}

}  // namespace

void attention_forward(const float* q, const float* k, const float* v, const Dims& s, const Masks& m,
                       const Dropout& dr, float* out, float* lse, int device) {
  if (s.batch * s.heads * s.lq == 0) return;
  DeviceGuard guard(device);
  const float scale = 1.0f / sqrtf(static_cast<float>(s.d));
  const size_t bytes = tile_bytes(3, s.d);
  with_accumulators(s.d, [&](auto nc) {
    constexpr int NC = decltype(nc)::value;
    allow_shared(attn_fwd_kernel<NC>, bytes);
    attn_fwd_kernel<NC><<<tiles_grid(s.lq, s), kThreads, bytes, current_stream(device)>>>(q, k, v, s, m, dr, scale, out,
                                                                                        lse);
  });
  CUREC_KERNEL_CHECK();
}

void attention_backward(const float* q, const float* k, const float* v, const float* out, const float* lse,
                        const float* dout, const Dims& s, const Masks& m, const Dropout& dr, float* delta, float* dq,
                        float* dk, float* dv, int device) {
  if (s.batch * s.heads == 0) return;
  DeviceGuard guard(device);
  cudaStream_t stream = current_stream(device);
  const float scale = 1.0f / sqrtf(static_cast<float>(s.d));
  const int64_t rows = s.batch * s.heads * s.lq;
  const size_t bytes = tile_bytes(4, s.d);  // the dQ and the dK/dV kernels hold four tiles each
  if (rows > 0) {
    attn_delta_kernel<<<grid_for(rows * 32), 256, 0, stream>>>(out, dout, delta, rows, s.d);
    CUREC_KERNEL_CHECK();
    with_accumulators(s.d, [&](auto nc) {
      constexpr int NC = decltype(nc)::value;
      allow_shared(attn_dq_kernel<NC>, bytes);
      attn_dq_kernel<NC><<<tiles_grid(s.lq, s), kThreads, bytes, stream>>>(q, k, v, lse, delta, dout, s, m, dr, scale,
                                                                           dq);
    });
    CUREC_KERNEL_CHECK();
  }
  if (s.lk > 0) {
    with_accumulators(s.d, [&](auto nc) {
      constexpr int NC = decltype(nc)::value;
      allow_shared(attn_dkv_kernel<NC>, bytes);
      attn_dkv_kernel<NC><<<tiles_grid(s.lk, s), kThreads, bytes, stream>>>(q, k, v, lse, delta, dout, s, m, dr, scale,
                                                                            dk, dv);
    });
    CUREC_KERNEL_CHECK();
  }
}

void attention_dropout_apply(const float* x, float* y, const Dims& s, const Dropout& dr, int device) {
  const int64_t n = s.batch * s.heads * s.lq * s.lk;
  if (n == 0) return;
  DeviceGuard guard(device);
  attn_dropout_kernel<<<grid_for(n), 256, 0, current_stream(device)>>>(x, y, s, dr, n);
  CUREC_KERNEL_CHECK();
}

}  // namespace curec::cuda
