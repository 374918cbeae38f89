#include "core/cuda_context.h"
#include "ops/mf_step.h"

namespace curec::cuda {
namespace {

constexpr int kWarp = 32;
constexpr int kWarpsPerBlock = 8;
constexpr int kBlock = kWarp * kWarpsPerBlock;
constexpr unsigned kFullMask = 0xffffffffu;

// One warp per example (grid-stride over examples): the lanes split the k factors, a butterfly
// reduction gives every lane the dot product, then each lane adds its factors' gradients with
// atomics (examples of one batch share users and items). Lane 0 keeps the warp's loss; the
// block sums its warps and adds to loss_sum once.
template <class I>
__global__ void mf_step_kernel(MfStepArgs a, const I* __restrict__ users, const I* __restrict__ items, float inv_n,
                               DeviceErrorFlag* flag) {
  __shared__ float warp_loss[kWarpsPerBlock];
  const int lane = threadIdx.x % kWarp, warp = threadIdx.x / kWarp;
  const int64_t k = a.k;
  float loss = 0.0f;
  for (int64_t e = int64_t(blockIdx.x) * kWarpsPerBlock + warp; e < a.n; e += int64_t(gridDim.x) * kWarpsPerBlock) {
    const int64_t u = static_cast<int64_t>(users[e]), i = static_cast<int64_t>(items[e]);
    // u and i are the same in every lane, so a skip leaves the warp converged.
    if (u < 0 || u >= a.num_users) {
      if (lane == 0) raise_error(flag, kIndexOutOfRange, u, a.num_users);
      continue;
    }
    if (i < 0 || i >= a.num_items) {
      if (lane == 0) raise_error(flag, kIndexOutOfRange, i, a.num_items);
      continue;
    }
    const float* pu = a.P + u * k;
    const float* qi = a.Q + i * k;
    float dot = 0.0f;
    for (int64_t c = lane; c < k; c += kWarp) dot += pu[c] * qi[c];
    for (int offset = kWarp / 2; offset > 0; offset >>= 1) dot += __shfl_xor_sync(kFullMask, dot, offset);
    const float d = dot + a.bu[u] + a.bi[i] - a.ratings[e];
    const float g = d * inv_n;  // d loss_mean / d pred
    for (int64_t c = lane; c < k; c += kWarp) {
      atomicAdd(a.gP + u * k + c, g * qi[c]);
      atomicAdd(a.gQ + i * k + c, g * pu[c]);
    }
    if (lane == 0) {
      atomicAdd(a.gbu + u, g);
      atomicAdd(a.gbi + i, g);
      loss += 0.5f * d * d;
    }
  }
  if (lane == 0) warp_loss[warp] = loss;
  __syncthreads();
  if (threadIdx.x == 0) {
    float s = 0.0f;
    for (int w = 0; w < kWarpsPerBlock; ++w) s += warp_loss[w];
    atomicAdd(a.loss_sum, s);
  }
}

}  // namespace

void mf_fused_step(const MfStepArgs& a, int device) {
  if (a.n == 0) return;
  DeviceGuard guard(device);
  cudaStream_t s = current_stream(device);
  DeviceErrorFlag* flag = device_error_flag(device);
  const float inv_n = 1.0f / static_cast<float>(a.n);
  const unsigned grid = grid_for(a.n * kWarp, kBlock);
  if (a.idx64)
    mf_step_kernel<int64_t><<<grid, kBlock, 0, s>>>(a, static_cast<const int64_t*>(a.users),
                                                     static_cast<const int64_t*>(a.items), inv_n, flag);
  else
    mf_step_kernel<int32_t><<<grid, kBlock, 0, s>>>(a, static_cast<const int32_t*>(a.users),
                                                     static_cast<const int32_t*>(a.items), inv_n, flag);
  CUREC_KERNEL_CHECK();
}

}  // namespace curec::cuda
