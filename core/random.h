#pragma once
// Filling tensors with random numbers from a Generator, identically on CPU and CUDA.
#include "core/generator.h"
#include "core/tensor.h"

namespace curec {

Tensor& uniform_(Tensor& t, float low, float high, Generator& gen = default_generator());
// Box-Muller on two uniforms per element; CPU and CUDA agree to float rounding.
Tensor& normal_(Tensor& t, float mean, float stddev, Generator& gen = default_generator());
// Integers uniform in [0, n) into an i32 or i64 tensor.
Tensor& randint_(Tensor& t, int64_t n, Generator& gen = default_generator());
// A random permutation of 0..n-1 (i64): sorts Philox keys, so both backends agree exactly.
Tensor randperm(int64_t n, Generator& gen = default_generator(), Device device = Device::cpu());

namespace cuda {
void uniform(float* out, int64_t n, float low, float high, uint64_t seed, uint64_t offset, int device);
void normal(float* out, int64_t n, float mean, float stddev, uint64_t seed, uint64_t offset, int device);
void randint(void* out, bool is64, int64_t n, int64_t bound, uint64_t seed, uint64_t offset, int device);
void randperm(int64_t* out, int64_t n, uint64_t seed, uint64_t offset, int device);
}  // namespace cuda

}  // namespace curec
