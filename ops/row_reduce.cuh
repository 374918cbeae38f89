#pragma once
// One value per thread reduced over a block in an order fixed by the block's shape (shuffles
// within each warp, then the warps' results within every warp), so that every thread gets the
// result and a run gives the same bits each time: a row's max and sums in the row kernels
// (softmax, cross-entropy, layer norm), which give a block to each row.
#include "core/cuda_context.h"

namespace curec::cuda::row {

// Threads of a row kernel's block: a multiple of 32, at most 32 warps.
constexpr int kBlock = 128;

// Blocks for `rows` rows, one each up to the grid's limit (the kernels stride over the rest).
inline unsigned grid(int64_t rows) { return static_cast<unsigned>(rows < 1 ? 1 : rows < 65535 * 16 ? rows : 65535 * 16); }

struct Max {
  __device__ float operator()(float a, float b) const { return fmaxf(a, b); }
};
struct Sum {
  __device__ float operator()(float a, float b) const { return a + b; }
};

template <class Op>
__device__ float warp_reduce(float v, Op op) {
  for (int o = 16; o > 0; o >>= 1) v = op(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}

// `scratch` is 32 floats of shared memory; the first barrier lets a previous call's readers
// finish before it is overwritten.
template <class Op>
__device__ float block_reduce(float v, Op op, float identity, float* scratch) {
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32, warps = blockDim.x / 32;
  v = warp_reduce(v, op);
  __syncthreads();
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  return warp_reduce(lane < warps ? scratch[lane] : identity, op);
}

}  // namespace curec::cuda::row
