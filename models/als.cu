#include <algorithm>
#include <climits>

#include "core/cuda_context.h"
#include "core/cuda_scratch.h"
#include "models/als.h"

namespace curec::models::cuda {
using curec::cuda::current_stream;
using curec::cuda::DeviceErrorFlag;
using curec::cuda::DeviceGuard;
using curec::cuda::grid_for;

namespace {

// One block per row (user or item). Tiles of the row's ratings are staged in shared memory as
// augmented factors f̃ = [F_c; 1] and targets y = r − μ − c; each thread owns fixed entries of A_r
// and b_r and adds the tile's contribution to them, so no two threads write one entry.
__global__ void normal_equations_kernel(const int64_t* row_ptr, const int32_t* col, const float* val, int64_t cols,
                                        const float* F, const float* bias, int k, int tile, float mean, float lambda,
                                        bool scale, float* A, float* b, DeviceErrorFlag* flag) {
  extern __shared__ float shared[];
  const int d = k + 1, dd = d * d;
  float* tf = shared;             // [tile, d]
  float* ty = shared + tile * d;  // [tile]
  const int64_t r = blockIdx.x;
  const int64_t begin = row_ptr[r], end = row_ptr[r + 1];
  float* Ar = A + r * dd;
  float* br = b + r * d;
  const int64_t count = end - begin;
  const float lam = scale ? lambda * static_cast<float>(count > 1 ? count : 1) : lambda;
  for (int e = threadIdx.x; e < dd; e += blockDim.x) Ar[e] = (e / d == e % d) ? lam : 0.0f;
  for (int e = threadIdx.x; e < d; e += blockDim.x) br[e] = 0.0f;
  for (int64_t t0 = begin; t0 < end; t0 += tile) {
    const int n = static_cast<int>(end - t0 < tile ? end - t0 : tile);
    __syncthreads();  // the previous tile is consumed
    for (int e = threadIdx.x; e < n * d; e += blockDim.x) {
      const int t = e / d, a = e % d;
      const int32_t c = col[t0 + t];
      const bool ok = c >= 0 && c < cols;
      if (!ok && a == 0) curec::cuda::raise_error(flag, curec::cuda::kIndexOutOfRange, c, cols);
      tf[e] = !ok ? 0.0f : (a < k ? F[static_cast<int64_t>(c) * k + a] : 1.0f);
      if (a == 0) ty[t] = ok ? val[t0 + t] - mean - bias[c] : 0.0f;
    }
    __syncthreads();
    for (int e = threadIdx.x; e < dd; e += blockDim.x) {
      const int a = e / d, c = e % d;
      float s = 0.0f;
      for (int t = 0; t < n; ++t) s += tf[t * d + a] * tf[t * d + c];
      Ar[e] += s;
    }
    for (int e = threadIdx.x; e < d; e += blockDim.x) {
      float s = 0.0f;
      for (int t = 0; t < n; ++t) s += ty[t] * tf[t * d + e];
      br[e] += s;
    }
  }
}

__global__ void pointers_kernel(float* A, float* b, int64_t n, int d, float** a_ptrs, float** b_ptrs) {
  CUREC_GRID_LOOP(i, n) {
    a_ptrs[i] = A + i * d * d;
    b_ptrs[i] = b + i * d;
  }
}

// potrf's info per matrix (> 0: not positive definite) and potrs's single info (< 0: a bad
// argument, reported as row -1) folded into {count, first row}.
__global__ void fold_info_kernel(const int* info, int64_t n, const int* solve_info, int32_t* status) {
  CUREC_GRID_LOOP(i, n) {
    if (info[i] != 0) {
      atomicAdd(&status[0], 1);
      atomicMin(&status[1], static_cast<int32_t>(i));
    }
  }
  if (blockIdx.x == 0 && threadIdx.x == 0 && *solve_info != 0) {
    atomicAdd(&status[0], 1);
    atomicMin(&status[1], -1);
  }
}

__global__ void reset_status_kernel(int32_t* status) {
  status[0] = 0;
  status[1] = INT_MAX;
}

__global__ void unpack_kernel(const float* x, int64_t rows, int k, float* factors, float* bias) {
  const int d = k + 1;
  CUREC_GRID_LOOP(j, rows * d) {
    const int64_t r = j / d;
    const int a = static_cast<int>(j % d);
    if (a < k)
      factors[r * k + a] = x[j];
    else
      bias[r] = x[j];
  }
}

__global__ void predict_kernel(const int32_t* users, const int32_t* items, int64_t n, const float* p, const float* bu,
                               const float* q, const float* ci, int64_t num_users, int64_t num_items, int k,
                               float mean, float* out, DeviceErrorFlag* flag) {
  CUREC_GRID_LOOP(j, n) {
    const int32_t u = users[j], i = items[j];
    if (u < 0 || u >= num_users) {
      curec::cuda::raise_error(flag, curec::cuda::kIndexOutOfRange, u, num_users);
      out[j] = 0.0f;
      continue;
    }
    if (i < 0 || i >= num_items) {
      curec::cuda::raise_error(flag, curec::cuda::kIndexOutOfRange, i, num_items);
      out[j] = 0.0f;
      continue;
    }
    float dot = 0.0f;
    for (int f = 0; f < k; ++f) dot += p[static_cast<int64_t>(u) * k + f] * q[static_cast<int64_t>(i) * k + f];
    out[j] = mean + bu[u] + ci[i] + dot;
  }
}

}  // namespace

void als_normal_equations(const int64_t* row_ptr, const int32_t* col, const float* val, int64_t rows, int64_t cols,
                          const float* factors, const float* bias, int k, float mean, float lambda,
                          bool scale_by_count, float* A, float* b, int device) {
  if (rows == 0) return;
  DeviceGuard guard(device);
  const int d = k + 1;
  CUREC_CHECK(rows <= INT_MAX, "als_normal_equations: ", rows, " rows exceed one launch; split the data");
  // Up to 64 ratings per tile, fewer when wide factors would overflow 48 KiB of shared memory.
  const int tile = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(64, (48 * 1024 / 4) / (d + 1))));
  const size_t shared = static_cast<size_t>(tile) * (d + 1) * sizeof(float);
  CUREC_CHECK(shared <= 48 * 1024, "als_normal_equations: ", k, " factors are too many for one block's shared memory");
  const int threads = std::min(256, ((d * d + 31) / 32) * 32);
  normal_equations_kernel<<<static_cast<unsigned>(rows), threads, shared, current_stream(device)>>>(
      row_ptr, col, val, cols, factors, bias, k, tile, mean, lambda, scale_by_count, A, b,
      curec::cuda::device_error_flag(device));
  CUREC_KERNEL_CHECK();
}

void reset_solve_status(int32_t* status, int device) {
  DeviceGuard guard(device);
  reset_status_kernel<<<1, 1, 0, current_stream(device)>>>(status);
  CUREC_KERNEL_CHECK();
}

void spd_solve_batched_inplace(float* A, float* b, int64_t n, int d, int32_t* status, int device) {
  if (n == 0) return;
  DeviceGuard guard(device);
  CUREC_CHECK(n <= INT_MAX, "spd_solve_batched: ", n, " systems exceed cuSOLVER's int batch size; split them");
  cudaStream_t stream = current_stream(device);
  curec::cuda::Scratch ptrs(2 * static_cast<size_t>(n) * sizeof(float*), device);
  curec::cuda::Scratch info((static_cast<size_t>(n) + 1) * sizeof(int), device);
  float** a_ptrs = ptrs.get<float*>();
  float** b_ptrs = a_ptrs + n;
  int* potrf_info = info.get<int>();
  int* potrs_info = potrf_info + n;
  // Read as statuses by fold_info_kernel: start from "solved" whatever cuSOLVER leaves unwritten.
  CUREC_CUDA_CHECK(cudaMemsetAsync(potrf_info, 0, (static_cast<size_t>(n) + 1) * sizeof(int), stream));
  pointers_kernel<<<grid_for(n), 256, 0, stream>>>(A, b, n, d, a_ptrs, b_ptrs);
  CUREC_KERNEL_CHECK();
  cusolverDnHandle_t h = curec::cuda::cusolver(device);
  // A row-major symmetric matrix reads the same column-major; factor its lower triangle.
  CUREC_CUSOLVER_CHECK(cusolverDnSpotrfBatched(h, CUBLAS_FILL_MODE_LOWER, d, a_ptrs, d, potrf_info,
                                               static_cast<int>(n)));
  CUREC_CUSOLVER_CHECK(cusolverDnSpotrsBatched(h, CUBLAS_FILL_MODE_LOWER, d, 1, a_ptrs, d, b_ptrs, d, potrs_info,
                                               static_cast<int>(n)));
  fold_info_kernel<<<grid_for(n), 256, 0, stream>>>(potrf_info, n, potrs_info, status);
  CUREC_KERNEL_CHECK();
}

void als_unpack(const float* x, int64_t rows, int k, float* factors, float* bias, int device) {
  if (rows == 0) return;
  DeviceGuard guard(device);
  const int64_t n = rows * (k + 1);
  unpack_kernel<<<grid_for(n), 256, 0, current_stream(device)>>>(x, rows, k, factors, bias);
  CUREC_KERNEL_CHECK();
}

void als_predict(const int32_t* users, const int32_t* items, int64_t n, const float* p, const float* bu,
                 const float* q, const float* ci, int64_t num_users, int64_t num_items, int k, float mean,
                 float* out, int device) {
  if (n == 0) return;
  DeviceGuard guard(device);
  predict_kernel<<<grid_for(n), 256, 0, current_stream(device)>>>(users, items, n, p, bu, q, ci, num_users,
                                                                   num_items, k, mean, out,
                                                                   curec::cuda::device_error_flag(device));
  CUREC_KERNEL_CHECK();
}

}  // namespace curec::models::cuda
