#pragma once
// Host entry points of probe_kernels.cu: small kernels, right and deliberately wrong, that the
// emulator's own tests launch to show what it runs faithfully and what it refuses.
#include <cuda_runtime_api.h>

#include <cstdint>
#include <vector>

namespace probe {

// Each returns the launch's error (cudaGetLastError after the launch, then a synchronize) and
// copies results back where a vector is passed.
cudaError_t block_sum(const std::vector<float>& x, int threads, bool with_barriers, float* sum);
cudaError_t barrier_skipped_by_half(int threads);
cudaError_t barrier_at_two_sites(int threads);
cudaError_t return_before_barrier(int threads);
cudaError_t warp_sum(const std::vector<float>& x, unsigned mask, std::vector<float>* out);
cudaError_t shuffle_after_half_exit();
cudaError_t shuffle_variants(std::vector<int>* idx, std::vector<int>* up, std::vector<int>* xor16, std::vector<int>* width8);
cudaError_t votes(std::vector<unsigned>* ballot, std::vector<int>* any, std::vector<int>* all);
cudaError_t indices_3d(dim3 grid, dim3 block, std::vector<int64_t>* out);
cudaError_t launch_block(dim3 grid, dim3 block);
cudaError_t too_much_static_shared();
cudaError_t dynamic_shared_sum(int bytes, bool opt_in, float* first);
cudaError_t host_pointer_argument();
cudaError_t shared_read_before_write(float* value);
cudaError_t atomic_count(int blocks, int threads, long long* count);
cudaError_t flush_denormal(float* value);
cudaError_t neighbour_read_without_barrier(int* value);
cudaError_t count_at_barrier(int threads, int* count);
cudaError_t barrier_hidden_in_macro();
// For the speed figure (bench_cudaemu): many blocks of the barrier reduction / the shuffle sum.
cudaError_t block_sums(int blocks, int threads);
cudaError_t warp_sums(int blocks, int threads);

}  // namespace probe
