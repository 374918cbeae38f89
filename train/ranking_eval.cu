#include "core/cuda_context.h"
#include "core/cuda_scratch.h"
#include "train/ranking_eval.h"
#include "train/ranking_math.h"

namespace curec::train::cuda {
namespace {

namespace rm = ranking_math;
using curec::cuda::DeviceErrorFlag;

constexpr int kBlock = 256;
constexpr int kNan = 1, kMalformed = 2, kBadIndex = 4;

// Sums v over the block in a fixed tree order; every thread must call it. The result is valid
// in thread 0.
template <class T>
__device__ T block_sum(T v, T* buf) {
  buf[threadIdx.x] = v;
  __syncthreads();
  for (int s = kBlock / 2; s > 0; s >>= 1) {
    if (threadIdx.x < s) buf[threadIdx.x] += buf[threadIdx.x + s];
    __syncthreads();
  }
  T total = buf[0];
  __syncthreads();  // buf is reused by the next call
  return total;
}

__device__ int block_or(int v, int* buf) {
  buf[threadIdx.x] = v;
  __syncthreads();
  for (int s = kBlock / 2; s > 0; s >>= 1) {
    if (threadIdx.x < s) buf[threadIdx.x] |= buf[threadIdx.x + s];
    __syncthreads();
  }
  int total = buf[0];
  __syncthreads();
  return total;
}

// One block per user row. Rather than searching the training row for every item, the block
// compares every item in the candidate range with the test score (a coalesced pass over the
// row), then takes back the comparisons of the user's training items (a pass over the short
// training row). With strictly increasing training items this counts exactly the candidates
// the CPU reference finds by binary search. Writes per_user[slot * n + i].
__global__ void rank_users_kernel(const float* scores, int64_t n, int64_t num_items, int64_t first_user,
                                  const int64_t* row_ptr, const int32_t* cols, int64_t nnz,
                                  const int32_t* test_items, int hit_k, int ndcg_k, int64_t limit, double* per_user,
                                  DeviceErrorFlag* flag) {
  __shared__ long long buf64[kBlock];
  __shared__ int buf32[kBlock];
  const int64_t range = rm::candidate_range(num_items, limit);
  for (int64_t i = blockIdx.x; i < n; i += gridDim.x) {
    const int64_t u = first_user + i;
    const int64_t t = test_items[u];
    const int64_t b = row_ptr[u], e = row_ptr[u + 1];
    // Every thread reads the same t, b, e: these branches are uniform over the block.
    const bool skip = t < 0;
    const bool bad_test = !skip && t >= num_items;
    const bool bad_row = !skip && !(0 <= b && b <= e && e <= nnz);
    if (skip || bad_test || bad_row) {
      if (threadIdx.x == 0) {
        if (bad_test) curec::cuda::raise_error(flag, curec::cuda::kIndexOutOfRange, t, num_items);
        else if (bad_row) curec::cuda::raise_error(flag, curec::cuda::kIndexOutOfRange, e, nnz);
        for (int slot = 0; slot < rm::kSlots; ++slot) per_user[slot * n + i] = 0.0;
      }
      continue;
    }
    const float* s = scores + i * num_items;
    const float s_test = s[t];
    int64_t greater = 0, ties = 0, removed = 0;
    int bad = 0;
    for (int64_t j = threadIdx.x; j < num_items; j += kBlock) {
      const float v = s[j];
      if (isnan(v)) bad |= kNan;
      if (j < range && j != t) rm::compare(v, s_test, greater, ties);
    }
    for (int64_t p = b + threadIdx.x; p < e; p += kBlock) {
      const int32_t c = cols[p];
      if (c < 0 || c >= num_items) {
        curec::cuda::raise_error(flag, curec::cuda::kIndexOutOfRange, c, num_items);
        bad |= kBadIndex;
        continue;
      }
      if (p > b && cols[p - 1] >= c) bad |= kMalformed;
      if (c == t || c >= range) continue;
      int64_t g = 0, q = 0;
      rm::compare(s[c], s_test, g, q);
      greater -= g;
      ties -= q;
      ++removed;
    }
    greater = block_sum<long long>(greater, buf64);
    ties = block_sum<long long>(ties, buf64);
    removed = block_sum<long long>(removed, buf64);
    bad = block_or(bad, buf32);
    if (threadIdx.x == 0) {
      rm::UserMetrics m;
      if (bad == 0) {
        rm::Counts c;
        c.greater = greater;
        c.ties = ties;
        c.candidates = rm::candidate_count(range, t, removed);
        m = rm::user_metrics(c, hit_k, ndcg_k, t < range);
      }
      per_user[rm::kHitSum * n + i] = m.hit;
      per_user[rm::kAucSum * n + i] = m.auc;
      per_user[rm::kNdcgSum * n + i] = m.ndcg;
      per_user[rm::kUsers * n + i] = (bad & kBadIndex) ? 0.0 : 1.0;
      per_user[rm::kNanUsers * n + i] = (bad & kNan) ? 1.0 : 0.0;
      per_user[rm::kMalformedUsers * n + i] = (bad & (kNan | kBadIndex)) == 0 && (bad & kMalformed) ? 1.0 : 0.0;
    }
  }
}

// Block `slot` adds the chunk's per-user values of that slot into sums[slot], in a fixed order.
__global__ void add_sums_kernel(const double* per_user, int64_t n, double* sums) {
  __shared__ double buf[kBlock];
  const double* row = per_user + blockIdx.x * n;
  double acc = 0.0;
  for (int64_t i = threadIdx.x; i < n; i += kBlock) acc += row[i];
  acc = block_sum<double>(acc, buf);
  if (threadIdx.x == 0) sums[blockIdx.x] += acc;
}

}  // namespace

void rank_chunk(const float* scores, int64_t n, int64_t num_items, int64_t first_user, const int64_t* row_ptr,
                const int32_t* cols, int64_t nnz, const int32_t* test_items, int hit_k, int ndcg_k,
                int64_t candidates_limit, double* sums, int device) {
  if (n == 0) return;
  curec::cuda::DeviceGuard guard(device);
  cudaStream_t stream = curec::cuda::current_stream(device);
  curec::cuda::Scratch per_user(static_cast<size_t>(rm::kSlots * n) * sizeof(double), device);
  const unsigned grid = static_cast<unsigned>(n < (1LL << 30) ? n : (1LL << 30));
  rank_users_kernel<<<grid, kBlock, 0, stream>>>(scores, n, num_items, first_user, row_ptr, cols, nnz, test_items,
                                                 hit_k, ndcg_k, candidates_limit, per_user.get<double>(),
                                                 curec::cuda::device_error_flag(device));
  CUREC_KERNEL_CHECK();
  add_sums_kernel<<<rm::kSlots, kBlock, 0, stream>>>(per_user.get<double>(), n, sums);
  CUREC_KERNEL_CHECK();
}

}  // namespace curec::train::cuda
