#include "core/cuda_context.h"
#include "ops/fm.h"

namespace curec::cuda {
namespace {

constexpr int kWarps = 8;  // warps per block; one warp per example

// One warp per example. For k <= 32 the warp splits into 32/k groups of k lanes; lane (group,
// j) sums e[f, j] over the fields f ≡ group (mod groups), so with k = 10 three fields are read
// per step instead of one. The groups' partial S_j are combined in shared memory in a fixed
// order (deterministic). Wider k is processed in chunks of 32.
__global__ void fm_fwd(const float* e, float* out, float* sums, int64_t batch, int fields, int k) {
  __shared__ float partial[kWarps][32];
  int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  for (int64_t b = blockIdx.x * int64_t(kWarps) + warp; b < batch; b += int64_t(gridDim.x) * kWarps) {
    const float* eb = e + b * fields * k;
    float acc = 0.0f;
    for (int k0 = 0; k0 < k; k0 += 32) {
      int width = min(32, k - k0), groups = 32 / width;
      int j = k0 + lane % width, group = lane / width;
      float s = 0.0f, q = 0.0f;
      if (group < groups)
        for (int f = group; f < fields; f += groups) {
          float v = eb[int64_t(f) * k + j];
          s += v;
          q += v * v;
        }
      partial[warp][lane] = s;
      __syncwarp();
      if (lane < width) {
        float sj = 0.0f;
        for (int g = 0; g < groups; ++g) sj += partial[warp][g * width + lane];
        acc += sj * sj;
        if (sums) sums[b * k + j] = sj;
      }
      acc -= q;
      __syncwarp();
    }
    for (int offset = 16; offset > 0; offset >>= 1) acc += __shfl_down_sync(0xffffffffu, acc, offset);
    if (lane == 0) out[b] = 0.5f * acc;
  }
}

__global__ void fm_bwd(const float* e, const float* sums, const float* g, float* de, int64_t n, int64_t fields,
                       int64_t k) {
  CUREC_GRID_LOOP(i, n) {
    int64_t b = i / (fields * k), j = i % k;
    de[i] = g[b] * (sums[b * k + j] - e[i]);
  }
}

}  // namespace

void fm_forward(const float* e, float* out, float* sums, int64_t batch, int64_t fields, int64_t k, int device) {
  if (!batch) return;
  CUREC_CHECK(fields < (int64_t(1) << 31) && k < (int64_t(1) << 31), "fm_interaction: fields ", fields, " or k ",
              k, " exceeds the kernel's 32-bit per-example indexing");
  DeviceGuard guard(device);
  int64_t blocks = (batch + kWarps - 1) / kWarps;
  unsigned grid = static_cast<unsigned>(blocks < 65535 * 16 ? blocks : 65535 * 16);
  fm_fwd<<<grid, kWarps * 32, 0, current_stream(device)>>>(e, out, sums, batch, static_cast<int>(fields),
                                                          static_cast<int>(k));
  CUREC_KERNEL_CHECK();
}

void fm_backward(const float* e, const float* sums, const float* g, float* de, int64_t batch, int64_t fields,
                 int64_t k, int device) {
  int64_t n = batch * fields * k;
  if (!n) return;
  DeviceGuard guard(device);
  fm_bwd<<<grid_for(n), 256, 0, current_stream(device)>>>(e, sums, g, de, n, fields, k);
  CUREC_KERNEL_CHECK();
}

}  // namespace curec::cuda
