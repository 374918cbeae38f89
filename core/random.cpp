#include "core/random.h"

#include <algorithm>
#include <bit>
#include <numeric>
#include <vector>

#include "core/parallel.h"
#include "core/random_math.h"

namespace curec {

namespace {

// Sorts the elements by (Philox key, index), what a stable sort of the keys gives (the CUDA
// radix sort's order): a counting pass deals them into buckets by the keys' top bits, in index
// order, then each bucket of a few dozen is sorted on its own, buckets in parallel. The keys
// are uniform, so the buckets are even, and no pass makes the cache misses of an indirect
// comparison sort of n keys.
void randperm_cpu(int64_t* out, int64_t n, uint64_t seed, uint64_t offset) {
  struct Keyed {
    uint64_t key;
    int64_t index;
    bool operator<(const Keyed& o) const { return key < o.key || (key == o.key && index < o.index); }
  };
  std::vector<uint64_t> keys(static_cast<size_t>(n));
  parallel_for(0, n, kCpuGrain / 8, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) keys[i] = random_math::perm_key(seed, offset, static_cast<uint64_t>(i));
  });
  const int bits = std::clamp(static_cast<int>(std::bit_width(static_cast<uint64_t>(n / 32))), 1, 20);
  const int shift = 64 - bits;
  std::vector<int64_t> start((size_t{1} << bits) + 1, 0);
  for (int64_t i = 0; i < n; ++i) ++start[(keys[i] >> shift) + 1];
  for (size_t b = 1; b < start.size(); ++b) start[b] += start[b - 1];
  std::vector<Keyed> sorted(static_cast<size_t>(n));
  {
    std::vector<int64_t> at(start.begin(), start.end() - 1);
    for (int64_t i = 0; i < n; ++i) sorted[at[keys[i] >> shift]++] = {keys[i], i};
  }
  const auto buckets = static_cast<int64_t>(start.size() - 1);
  parallel_for(0, buckets, std::max<int64_t>(1, buckets * kCpuGrain / std::max<int64_t>(n, 1)), [&](int64_t b, int64_t e) {
    for (int64_t k = b; k < e; ++k) std::sort(sorted.begin() + start[k], sorted.begin() + start[k + 1]);
    for (int64_t i = start[b]; i < start[e]; ++i) out[i] = sorted[i].index;
  });
}

}  // namespace

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
  const uint64_t seed = gen.seed();
  parallel_for(0, n, kCpuGrain / 8, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) d[i] = low + (high - low) * philox::uniform(seed, off, i);
  });
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
  const uint64_t seed = gen.seed();
  parallel_for(0, n, kCpuGrain / 8, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) d[i] = random_math::normal(seed, off, i, mean, stddev);
  });
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
  const uint64_t seed = gen.seed();
  parallel_for(0, count, kCpuGrain / 8, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      auto v = static_cast<int64_t>(philox::below(seed, off, i, static_cast<uint64_t>(n)));
      if (is64) t.data<int64_t>()[i] = v;
      else t.data<int32_t>()[i] = static_cast<int32_t>(v);
    }
  });
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
  randperm_cpu(out.data<int64_t>(), n, gen.seed(), off);
  return out;
}

}  // namespace curec
