#include <algorithm>

#include "core/cuda_context.h"
#include "core/cuda_scratch.h"
#include "ops/reduce.h"

namespace curec::cuda {
namespace {

constexpr int kBlock = 256;
constexpr int kWarp = 32;

// Every kernel sums in an order fixed by the shape alone (no atomics), so results are the same
// on every run; they differ from the CPU's double accumulation only by float rounding.

// inner == 1, short rows: one warp per row of d contiguous elements. Lane l sums j = l, l + 32,
// ..., then the 32 lane sums meet in a fixed shuffle tree. (A 256-thread block per row would
// leave ~90% of its threads idle for d = 30.)
__global__ void row_sum_warp_kernel(const float* __restrict__ x, float* __restrict__ out, int64_t rows, int64_t d) {
  const int lane = threadIdx.x % kWarp;
  const int64_t warps = int64_t(gridDim.x) * (blockDim.x / kWarp);
  // r is the same for the 32 lanes of a warp, so every lane takes part in each shuffle.
  for (int64_t r = (blockIdx.x * int64_t(blockDim.x) + threadIdx.x) / kWarp; r < rows; r += warps) {
    const float* row = x + r * d;
    float acc = 0.0f;
    for (int64_t j = lane; j < d; j += kWarp) acc += row[j];
    for (int offset = kWarp / 2; offset > 0; offset >>= 1) acc += __shfl_down_sync(0xffffffffu, acc, offset);
    if (lane == 0) out[r] = acc;
  }
}

// inner == 1, long rows: one block per row, a fixed tree over the block's threads.
__global__ void row_sum_block_kernel(const float* __restrict__ x, float* __restrict__ out, int64_t rows, int64_t d) {
  __shared__ float partial[kBlock];
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    float acc = 0.0f;
    for (int64_t j = threadIdx.x; j < d; j += kBlock) acc += x[r * d + j];
    partial[threadIdx.x] = acc;
    __syncthreads();
    for (int s = kBlock / 2; s > 0; s >>= 1) {
      if (threadIdx.x < s) partial[threadIdx.x] += partial[threadIdx.x + s];
      __syncthreads();
    }
    if (threadIdx.x == 0) out[r] = partial[0];
    __syncthreads();
  }
}

// First pass of a split row sum, for few rows over a long axis: block (r, part) sums its slice
// of row r into partial[r * parts + part]; row_sum_block_kernel then sums the parts in order.
__global__ void row_partial_kernel(const float* __restrict__ x, float* __restrict__ partial, int64_t d,
                                   int64_t parts) {
  __shared__ float buf[kBlock];
  const int64_t r = blockIdx.x / parts, part = blockIdx.x % parts;
  const int64_t chunk = (d + parts - 1) / parts, begin = part * chunk, end = min(d, begin + chunk);
  float acc = 0.0f;
  for (int64_t j = begin + threadIdx.x; j < end; j += kBlock) acc += x[r * d + j];
  buf[threadIdx.x] = acc;
  __syncthreads();
  for (int s = kBlock / 2; s > 0; s >>= 1) {
    if (threadIdx.x < s) buf[threadIdx.x] += buf[threadIdx.x + s];
    __syncthreads();
  }
  if (threadIdx.x == 0) partial[blockIdx.x] = buf[0];
}

// inner > 1: x is [outer, d, inner], summed over d. Threads map to inner, so neighbouring
// threads read neighbouring addresses. Block (bx, o, part) has blockDim.x threads along inner
// and blockDim.y (a power of two) along d; it sums slice `part` of d (of `parts`) for outputs
// i = blockIdx.x * blockDim.x + threadIdx.x of each o it visits; its blockDim.y partial sums
// meet in a fixed tree. The result goes to out[(o * parts + part) * inner + i]: the sum itself
// when parts == 1, else the parts a second pass (parts == 1, d = parts) adds up.
__global__ void col_sum_kernel(const float* __restrict__ x, float* __restrict__ out, int64_t outer, int64_t d,
                               int64_t inner, int64_t parts) {
  __shared__ float buf[kBlock];
  const int tx = threadIdx.x, ty = threadIdx.y, bx = blockDim.x, by = blockDim.y;
  const int64_t i = blockIdx.x * int64_t(bx) + tx, part = blockIdx.z;
  const int64_t chunk = (d + parts - 1) / parts, begin = part * chunk, end = min(d, begin + chunk);
  for (int64_t o = blockIdx.y; o < outer; o += gridDim.y) {  // the same o for the whole block
    float acc = 0.0f;
    if (i < inner)
      for (int64_t j = begin + ty; j < end; j += by) acc += x[(o * d + j) * inner + i];
    buf[ty * bx + tx] = acc;
    __syncthreads();
    for (int s = by / 2; s > 0; s >>= 1) {
      if (ty < s) buf[ty * bx + tx] += buf[(ty + s) * bx + tx];
      __syncthreads();
    }
    if (ty == 0 && i < inner) out[(o * parts + part) * inner + i] = buf[tx];
    __syncthreads();
  }
}

__global__ void expand_kernel(const float* g, float* out, int64_t outer, int64_t d, int64_t inner) {
  CUREC_GRID_LOOP(k, outer * d * inner) {
    int64_t i = k % inner, o = k / (d * inner);
    out[k] = g[o * inner + i];
  }
}

constexpr int64_t kMaxGrid = 65535;

void row_sum(const float* x, float* out, int64_t rows, int64_t d, cudaStream_t s, int device) {
  constexpr int64_t kWarpRowsUpTo = 2048, kSplitBelow = 128, kPerPart = 16 * kBlock;
  if (d <= kWarpRowsUpTo) {
    row_sum_warp_kernel<<<grid_for(rows * kWarp, kBlock), kBlock, 0, s>>>(x, out, rows, d);
    CUREC_KERNEL_CHECK();
    return;
  }
  if (rows < kSplitBelow && d > 2 * kPerPart) {
    // Few rows over a long axis: spread each over many blocks, then sum the parts in order.
    const int64_t parts = std::min<int64_t>((d + kPerPart - 1) / kPerPart, 1024);
    Scratch partial(rows * parts * sizeof(float), device);
    row_partial_kernel<<<static_cast<unsigned>(rows * parts), kBlock, 0, s>>>(x, partial.get<float>(), d, parts);
    CUREC_KERNEL_CHECK();
    row_sum_block_kernel<<<static_cast<unsigned>(rows), kBlock, 0, s>>>(partial.get<float>(), out, rows, parts);
    CUREC_KERNEL_CHECK();
    return;
  }
  row_sum_block_kernel<<<static_cast<unsigned>(std::min(rows, kMaxGrid * 16)), kBlock, 0, s>>>(x, out, rows, d);
  CUREC_KERNEL_CHECK();
}

void col_sum(const float* x, float* out, int64_t outer, int64_t d, int64_t inner, cudaStream_t s, int device) {
  int bx = 1;
  while (bx < kWarp && bx < inner) bx *= 2;  // a power of two up to 32, covering inner if it can
  const int by = kBlock / bx;                // a power of two: 8 .. 128
  const int64_t blocks_x = (inner + bx - 1) / bx, blocks_y = std::min(outer, kMaxGrid);
  // Split d over blocks when the outputs alone give too few blocks, keeping >= 32 elements per thread.
  constexpr int64_t kWantBlocks = 1024, kMinPerThread = 32, kMaxParts = 1024;
  const int64_t base = blocks_x * blocks_y;
  int64_t parts = 1;
  if (base < kWantBlocks) {
    parts = std::min({(kWantBlocks + base - 1) / base, d / (by * kMinPerThread), kMaxParts});
    parts = std::max<int64_t>(parts, 1);
  }
  const dim3 block(bx, by);
  if (parts == 1) {
    col_sum_kernel<<<dim3(static_cast<unsigned>(blocks_x), static_cast<unsigned>(blocks_y), 1), block, 0, s>>>(
        x, out, outer, d, inner, 1);
    CUREC_KERNEL_CHECK();
    return;
  }
  Scratch partial(outer * parts * inner * sizeof(float), device);  // [outer, parts, inner]
  col_sum_kernel<<<dim3(static_cast<unsigned>(blocks_x), static_cast<unsigned>(blocks_y),
                        static_cast<unsigned>(parts)),
                   block, 0, s>>>(x, partial.get<float>(), outer, d, inner, parts);
  CUREC_KERNEL_CHECK();
  col_sum_kernel<<<dim3(static_cast<unsigned>(blocks_x), static_cast<unsigned>(blocks_y), 1), block, 0, s>>>(
      partial.get<float>(), out, outer, parts, inner, 1);
  CUREC_KERNEL_CHECK();
}

}  // namespace

void reduce_sum(const float* x, float* out, int64_t outer, int64_t d, int64_t inner, int device) {
  const int64_t n = outer * inner;
  if (n == 0) return;
  DeviceGuard guard(device);
  cudaStream_t s = current_stream(device);
  if (d == 0) {  // empty sums
    CUREC_CUDA_CHECK(cudaMemsetAsync(out, 0, static_cast<size_t>(n) * sizeof(float), s));
    return;
  }
  if (inner == 1) row_sum(x, out, outer, d, s, device);
  else col_sum(x, out, outer, d, inner, s, device);
}

void expand(const float* g, float* out, int64_t outer, int64_t d, int64_t inner, int device) {
  int64_t n = outer * d * inner;
  if (n == 0) return;
  DeviceGuard guard(device);
  expand_kernel<<<grid_for(n), 256, 0, current_stream(device)>>>(g, out, outer, d, inner);
  CUREC_KERNEL_CHECK();
}

}  // namespace curec::cuda
