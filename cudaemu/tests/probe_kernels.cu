// Probe kernels for the emulator's own tests (compiled through cudaemu/rewrite.py like every
// project .cu file). The wrong ones are wrong on purpose; each is named for its mistake.
#include "probe_kernels.h"

#include <cuda_runtime.h>

#include <vector>

namespace probe {
namespace {

// Copies a vector to a fresh device buffer (freed by the caller through Buffer).
template <class T>
struct Buffer {
  T* p = nullptr;
  size_t n = 0;
  explicit Buffer(size_t count, const T* init = nullptr) : n(count) {
    cudaMalloc(reinterpret_cast<void**>(&p), n * sizeof(T));
    if (init) cudaMemcpy(p, init, n * sizeof(T), cudaMemcpyHostToDevice);
  }
  ~Buffer() { cudaFree(p); }
  std::vector<T> get() const {
    std::vector<T> v(n);
    cudaMemcpy(v.data(), p, n * sizeof(T), cudaMemcpyDeviceToHost);
    return v;
  }
};

cudaError_t finish() {
  cudaError_t e = cudaGetLastError();
  cudaError_t s = cudaDeviceSynchronize();
  return e != cudaSuccess ? e : s;
}

__global__ void block_sum_kernel(const float* x, int n, float* out, bool barriers) {
  __shared__ float buf[1024];
  buf[threadIdx.x] = threadIdx.x < n ? x[threadIdx.x] : 0.0f;
  if (barriers) __syncthreads();
  for (int s = blockDim.x / 2; s > 0; s >>= 1) {
    if (threadIdx.x < s) buf[threadIdx.x] += buf[threadIdx.x + s];
    if (barriers) __syncthreads();
  }
  if (threadIdx.x == 0) *out = buf[0];
}

__global__ void half_barrier_kernel(int* out) {
  if (threadIdx.x < blockDim.x / 2) __syncthreads();
  out[threadIdx.x] = 1;
}

__global__ void two_sites_kernel(int* out) {
  if (threadIdx.x % 2) {
    __syncthreads();
  } else {
    __syncthreads();
  }
  out[threadIdx.x] = 1;
}

__global__ void early_return_kernel(int* out) {
  if (threadIdx.x == 0) return;
  __syncthreads();
  out[threadIdx.x] = 1;
}

__global__ void warp_sum_kernel(const float* x, unsigned mask, float* out) {
  float v = x[threadIdx.x];
  for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_down_sync(mask, v, offset);
  out[threadIdx.x] = v;
}

__global__ void half_exit_kernel(float* out) {
  int lane = threadIdx.x % 32;
  if (lane >= 16) return;
  out[lane] = __shfl_down_sync(0xffffffffu, 1.0f, 1);
}

__global__ void shuffle_variants_kernel(int* idx, int* up, int* xor16, int* width8) {
  int lane = threadIdx.x;
  idx[lane] = __shfl_sync(0xffffffffu, lane * 10, 3);
  up[lane] = __shfl_up_sync(0xffffffffu, lane * 10, 2);
  xor16[lane] = __shfl_xor_sync(0xffffffffu, lane * 10, 16);
  width8[lane] = __shfl_down_sync(0xffffffffu, lane * 10, 4, 8);
}

__global__ void votes_kernel(unsigned* ballot, int* any, int* all) {
  int lane = threadIdx.x;
  ballot[lane] = __ballot_sync(0xffffffffu, lane % 3 == 0);
  any[lane] = __any_sync(0xffffffffu, lane == 31);
  all[lane] = __all_sync(0xffffffffu, lane < 31);
}

__global__ void indices_kernel(int64_t* out) {
  int64_t block = blockIdx.x + int64_t(gridDim.x) * (blockIdx.y + int64_t(gridDim.y) * blockIdx.z);
  int64_t thread = threadIdx.x + int64_t(blockDim.x) * (threadIdx.y + int64_t(blockDim.y) * threadIdx.z);
  int64_t per_block = int64_t(blockDim.x) * blockDim.y * blockDim.z;
  out[block * per_block + thread] = block * 100000 + thread;
}

__global__ void empty_kernel(int* out) {
  if (out) out[0] = 1;
}

__global__ void big_static_shared_kernel(float* out) {
  __shared__ float big[51 * 256];  // 51 KiB: more than sm_90's 48 KiB of static shared memory
  big[threadIdx.x] = 1.0f;
  __syncthreads();
  out[threadIdx.x] = big[(threadIdx.x + 1) % blockDim.x];
}

__global__ void dynamic_shared_kernel(float* out, int n) {
  extern __shared__ float dyn[];
  for (int i = threadIdx.x; i < n; i += blockDim.x) dyn[i] = float(i);
  __syncthreads();
  if (threadIdx.x == 0) out[0] = dyn[n - 1];
}

__global__ void read_before_write_kernel(float* out) {
  __shared__ float s[32];
  out[threadIdx.x] = s[threadIdx.x];  // never written: the poison shows
}

__global__ void atomic_kernel(unsigned long long* count) { atomicAdd(count, 1ull); }

__global__ void denormal_kernel(const float* x, float* out) { out[0] = x[0] * 0.5f; }

__global__ void neighbour_kernel(int* out) {
  __shared__ int s[2];
  s[threadIdx.x] = int(threadIdx.x) + 1;
  // no __syncthreads: thread 0 reads what thread 1 may not have written yet
  if (threadIdx.x == 0) out[0] = s[1];
}

// A barrier rewrite.py cannot see in the kernel's body: the launch runs without fibers and must
// fail at the barrier, not deadlock or skip it.
#define CUREC_PROBE_HIDDEN_BARRIER() __syncthreads()
__global__ void hidden_barrier_kernel(int* out) {
  out[threadIdx.x] = 1;
  CUREC_PROBE_HIDDEN_BARRIER();
}

__global__ void count_kernel(int* out) {
  int c = __syncthreads_count(threadIdx.x % 3 == 0);
  if (threadIdx.x == 0) out[0] = c;
}

}  // namespace

cudaError_t block_sum(const std::vector<float>& x, int threads, bool with_barriers, float* sum) {
  Buffer<float> dx(x.size(), x.data()), out(1);
  block_sum_kernel<<<1, threads>>>(dx.p, static_cast<int>(x.size()), out.p, with_barriers);
  cudaError_t e = finish();
  *sum = out.get()[0];
  return e;
}

cudaError_t barrier_skipped_by_half(int threads) {
  Buffer<int> out(threads);
  half_barrier_kernel<<<2, threads>>>(out.p);
  return finish();
}

cudaError_t barrier_at_two_sites(int threads) {
  Buffer<int> out(threads);
  two_sites_kernel<<<1, threads>>>(out.p);
  return finish();
}

cudaError_t return_before_barrier(int threads) {
  Buffer<int> out(threads);
  early_return_kernel<<<1, threads>>>(out.p);
  return finish();
}

cudaError_t warp_sum(const std::vector<float>& x, unsigned mask, std::vector<float>* out) {
  Buffer<float> dx(x.size(), x.data()), dout(x.size());
  warp_sum_kernel<<<1, static_cast<unsigned>(x.size())>>>(dx.p, mask, dout.p);
  cudaError_t e = finish();
  *out = dout.get();
  return e;
}

cudaError_t shuffle_after_half_exit() {
  Buffer<float> out(32);
  half_exit_kernel<<<1, 32>>>(out.p);
  return finish();
}

cudaError_t shuffle_variants(std::vector<int>* idx, std::vector<int>* up, std::vector<int>* xor16,
                             std::vector<int>* width8) {
  Buffer<int> a(32), b(32), c(32), d(32);
  shuffle_variants_kernel<<<1, 32>>>(a.p, b.p, c.p, d.p);
  cudaError_t e = finish();
  *idx = a.get(), *up = b.get(), *xor16 = c.get(), *width8 = d.get();
  return e;
}

cudaError_t votes(std::vector<unsigned>* ballot, std::vector<int>* any, std::vector<int>* all) {
  Buffer<unsigned> a(32);
  Buffer<int> b(32), c(32);
  votes_kernel<<<1, 32>>>(a.p, b.p, c.p);
  cudaError_t e = finish();
  *ballot = a.get(), *any = b.get(), *all = c.get();
  return e;
}

cudaError_t indices_3d(dim3 grid, dim3 block, std::vector<int64_t>* out) {
  size_t n = size_t(grid.x) * grid.y * grid.z * block.x * block.y * block.z;
  Buffer<int64_t> d(n);
  cudaMemset(d.p, 0xFF, n * sizeof(int64_t));
  indices_kernel<<<grid, block>>>(d.p);
  cudaError_t e = finish();
  *out = d.get();
  return e;
}

cudaError_t launch_block(dim3 grid, dim3 block) {
  empty_kernel<<<grid, block>>>(nullptr);
  return finish();
}

cudaError_t too_much_static_shared() {
  Buffer<float> out(256);
  big_static_shared_kernel<<<1, 256>>>(out.p);
  return finish();
}

cudaError_t dynamic_shared_sum(int bytes, bool opt_in, float* first) {
  Buffer<float> out(1);
  if (opt_in) cudaFuncSetAttribute(dynamic_shared_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, bytes);
  dynamic_shared_kernel<<<1, 128, static_cast<size_t>(bytes)>>>(out.p, bytes / static_cast<int>(sizeof(float)));
  cudaError_t e = finish();
  *first = out.get()[0];
  return e;
}

cudaError_t host_pointer_argument() {
  std::vector<int> host(4);
  empty_kernel<<<1, 1>>>(host.data());
  return finish();
}

cudaError_t shared_read_before_write(float* value) {
  Buffer<float> out(32);
  read_before_write_kernel<<<1, 32>>>(out.p);
  cudaError_t e = finish();
  *value = out.get()[5];
  return e;
}

cudaError_t atomic_count(int blocks, int threads, long long* count) {
  Buffer<unsigned long long> c(1);
  cudaMemset(c.p, 0, sizeof(unsigned long long));
  atomic_kernel<<<blocks, threads>>>(c.p);
  cudaError_t e = finish();
  *count = static_cast<long long>(c.get()[0]);
  return e;
}

cudaError_t flush_denormal(float* value) {
  float x = 1.5e-38f;  // normal; half of it is subnormal
  Buffer<float> dx(1, &x), out(1);
  denormal_kernel<<<1, 1>>>(dx.p, out.p);
  cudaError_t e = finish();
  *value = out.get()[0];
  return e;
}

cudaError_t neighbour_read_without_barrier(int* value) {
  Buffer<int> out(1);
  neighbour_kernel<<<1, 2>>>(out.p);
  cudaError_t e = finish();
  *value = out.get()[0];
  return e;
}

cudaError_t count_at_barrier(int threads, int* count) {
  Buffer<int> out(1);
  count_kernel<<<1, threads>>>(out.p);
  cudaError_t e = finish();
  *count = out.get()[0];
  return e;
}

cudaError_t barrier_hidden_in_macro() {
  Buffer<int> out(64);
  hidden_barrier_kernel<<<1, 64>>>(out.p);
  return finish();
}

cudaError_t block_sums(int blocks, int threads) {
  std::vector<float> x(threads, 1.0f);
  Buffer<float> dx(x.size(), x.data()), out(1);
  block_sum_kernel<<<blocks, threads>>>(dx.p, threads, out.p, true);
  return finish();
}

cudaError_t warp_sums(int blocks, int threads) {
  std::vector<float> x(threads, 1.0f);
  Buffer<float> dx(x.size(), x.data()), out(x.size());
  warp_sum_kernel<<<blocks, threads>>>(dx.p, 0xffffffffu, out.p);
  return finish();
}

}  // namespace probe
