#include "core/random.h"

#include <algorithm>
#include <numeric>

#include "core/random_math.h"

namespace curec {

Generator& default_generator() {
  static Generator g(0);
  return g;
}
void manual_seed(uint64_t seed) { default_generator() = Generator(seed); }

Tensor& uniform_(Tensor& t, float low, float high, Generator& gen) {
  check_dtype("uniform_", t, DType::f32, "tensor");
  int64_t n = t.numel();
  uint64_t off = gen.advance(philox::uniform_counters(n));
  if (t.is_cuda()) {
#if CUREC_WITH_CUDA
    cuda::uniform(t.data<float>(), n, low, high, gen.seed(), off, t.device().index);
    return t;
#endif
  }
  float* d = t.data<float>();
  for (int64_t i = 0; i < n; ++i) d[i] = low + (high - low) * philox::uniform(gen.seed(), off, i);
  return t;
}

Tensor& normal_(Tensor& t, float mean, float stddev, Generator& gen) {
  check_dtype("normal_", t, DType::f32, "tensor");
  int64_t n = t.numel();
  uint64_t off = gen.advance(n);
  if (t.is_cuda()) {
#if CUREC_WITH_CUDA
    cuda::normal(t.data<float>(), n, mean, stddev, gen.seed(), off, t.device().index);
    return t;
#endif
  }
  float* d = t.data<float>();
  for (int64_t i = 0; i < n; ++i) d[i] = random_math::normal(gen.seed(), off, i, mean, stddev);
  return t;
}

Tensor& randint_(Tensor& t, int64_t n, Generator& gen) {
  CUREC_CHECK(t.dtype() == DType::i32 || t.dtype() == DType::i64, "randint_: needs an i32 or i64 tensor, got ", t.str());
  CUREC_CHECK(n > 0, "randint_: upper bound must be positive, got ", n);
  int64_t count = t.numel();
  uint64_t off = gen.advance(philox::below_counters(count));
  bool is64 = t.dtype() == DType::i64;
  if (t.is_cuda()) {
#if CUREC_WITH_CUDA
    cuda::randint(t.raw_data(), is64, count, n, gen.seed(), off, t.device().index);
    return t;
#endif
  }
  for (int64_t i = 0; i < count; ++i) {
    auto v = static_cast<int64_t>(philox::below(gen.seed(), off, i, static_cast<uint64_t>(n)));
    if (is64) t.data<int64_t>()[i] = v;
    else t.data<int32_t>()[i] = static_cast<int32_t>(v);
  }
  return t;
}

Tensor randperm(int64_t n, Generator& gen, Device device) {
  uint64_t off = gen.advance(n);
  Tensor out = Tensor::empty({n}, DType::i64, device);
  if (device.is_cuda()) {
#if CUREC_WITH_CUDA
    cuda::randperm(out.data<int64_t>(), n, gen.seed(), off, device.index);
    return out;
#endif
  }
  std::vector<uint64_t> keys(n);
  for (int64_t i = 0; i < n; ++i) keys[i] = random_math::perm_key(gen.seed(), off, i);
  int64_t* p = out.data<int64_t>();
  std::iota(p, p + n, int64_t{0});
  std::stable_sort(p, p + n, [&](int64_t a, int64_t b) { return keys[a] < keys[b]; });
  return out;
}

}  // namespace curec
