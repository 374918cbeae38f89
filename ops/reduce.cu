#include "core/cuda_context.h"
#include "core/cuda_scratch.h"
#include "ops/reduce.h"

namespace curec::cuda {
namespace {

constexpr int kBlock = 256;

// One block per output element; a fixed tree order keeps results deterministic.
__global__ void reduce_sum_kernel(const float* x, float* out, int64_t outer, int64_t d, int64_t inner) {
  __shared__ float partial[kBlock];
  for (int64_t o_i = blockIdx.x; o_i < outer * inner; o_i += gridDim.x) {
    int64_t o = o_i / inner, i = o_i % inner;
    float acc = 0.0f;
    for (int64_t j = threadIdx.x; j < d; j += kBlock) acc += x[(o * d + j) * inner + i];
    partial[threadIdx.x] = acc;
    __syncthreads();
    for (int s = kBlock / 2; s > 0; s >>= 1) {
      if (threadIdx.x < s) partial[threadIdx.x] += partial[threadIdx.x + s];
      __syncthreads();
    }
    if (threadIdx.x == 0) out[o_i] = partial[0];
    __syncthreads();
  }
}

// First pass of a split reduction, for few outputs over a long axis: block (o_i, part) sums its
// slice of d into partial[o_i * parts + part]; reduce_sum_kernel then sums the parts in order.
__global__ void partial_sum_kernel(const float* x, float* partial, int64_t d, int64_t inner, int64_t parts) {
  __shared__ float buf[kBlock];
  int64_t o_i = blockIdx.x / parts, part = blockIdx.x % parts;
  int64_t o = o_i / inner, i = o_i % inner;
  int64_t chunk = (d + parts - 1) / parts, begin = part * chunk, end = min(d, begin + chunk);
  float acc = 0.0f;
  for (int64_t j = begin + threadIdx.x; j < end; j += kBlock) acc += x[(o * d + j) * inner + i];
  buf[threadIdx.x] = acc;
  __syncthreads();
  for (int s = kBlock / 2; s > 0; s >>= 1) {
    if (threadIdx.x < s) buf[threadIdx.x] += buf[threadIdx.x + s];
    __syncthreads();
  }
  if (threadIdx.x == 0) partial[blockIdx.x] = buf[0];
}

__global__ void expand_kernel(const float* g, float* out, int64_t outer, int64_t d, int64_t inner) {
  CUREC_GRID_LOOP(k, outer * d * inner) {
    int64_t i = k % inner, o = k / (d * inner);
    out[k] = g[o * inner + i];
  }
}

}  // namespace

void reduce_sum(const float* x, float* out, int64_t outer, int64_t d, int64_t inner, int device) {
  int64_t n = outer * inner;
  if (n == 0) return;
  DeviceGuard guard(device);
  cudaStream_t s = current_stream(device);
  constexpr int64_t kSplitBelow = 128, kPerPart = 16 * kBlock;
  if (n < kSplitBelow && d > 2 * kPerPart) {
    // Few outputs over a long axis: spread each over many blocks, then sum the parts in order.
    int64_t parts = std::min<int64_t>((d + kPerPart - 1) / kPerPart, 1024);
    Scratch partial(n * parts * sizeof(float), device);
    partial_sum_kernel<<<static_cast<unsigned>(n * parts), kBlock, 0, s>>>(x, partial.get<float>(), d, inner, parts);
    CUREC_KERNEL_CHECK();
    reduce_sum_kernel<<<static_cast<unsigned>(n), kBlock, 0, s>>>(partial.get<float>(), out, n, parts, 1);
    CUREC_KERNEL_CHECK();
    return;
  }
  unsigned grid = static_cast<unsigned>(n < 65535 * 16 ? n : 65535 * 16);
  reduce_sum_kernel<<<grid, kBlock, 0, s>>>(x, out, outer, d, inner);
  CUREC_KERNEL_CHECK();
}

void expand(const float* g, float* out, int64_t outer, int64_t d, int64_t inner, int device) {
  int64_t n = outer * d * inner;
  if (n == 0) return;
  DeviceGuard guard(device);
  expand_kernel<<<grid_for(n), 256, 0, current_stream(device)>>>(g, out, outer, d, inner);
  CUREC_KERNEL_CHECK();
}

}  // namespace curec::cuda
