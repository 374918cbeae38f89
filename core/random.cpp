#include "core/random.h"

#include <algorithm>
#include <atomic>
#include <bit>
#include <memory>
#include <numeric>
#include <utility>
#include <vector>

#include "core/dispatch.h"
#include "core/parallel.h"
#include "core/random_math.h"

namespace curec {

namespace {

struct Keyed {
  uint64_t key;
  int64_t index;
  bool operator<(const Keyed& o) const { return key < o.key || (key == o.key && index < o.index); }
};

// Elements per piece of a radix pass: the pieces are fixed by n, so the passes (stable, pieces
// in order) give the same array whatever the thread count.
constexpr int64_t kRadixPiece = int64_t{1} << 18;

// One stable counting pass of `from` into `to` by the digit (key >> shift) & (buckets - 1):
// each piece counts its digits, then writes its elements after those of the earlier pieces.
void radix_pass(const Keyed* from, Keyed* to, int64_t n, int shift, int digit_bits) {
  const int64_t pieces = (n + kRadixPiece - 1) / kRadixPiece;
  const size_t buckets = size_t{1} << digit_bits;
  const uint64_t mask = buckets - 1;
  std::vector<int64_t> at(static_cast<size_t>(pieces) * buckets, 0);  // [piece][bucket]
  parallel_for(0, pieces, 1, [&](int64_t pb, int64_t pe) {
    for (int64_t p = pb; p < pe; ++p) {
      int64_t* count = at.data() + p * buckets;
      for (int64_t i = p * kRadixPiece, e = std::min(n, i + kRadixPiece); i < e; ++i) ++count[(from[i].key >> shift) & mask];
    }
  });
  int64_t offset = 0;
  for (size_t b = 0; b < buckets; ++b)
    for (int64_t p = 0; p < pieces; ++p) offset += std::exchange(at[p * buckets + b], offset);
  parallel_for(0, pieces, 1, [&](int64_t pb, int64_t pe) {
    for (int64_t p = pb; p < pe; ++p) {
      int64_t* next = at.data() + p * buckets;
      for (int64_t i = p * kRadixPiece, e = std::min(n, i + kRadixPiece); i < e; ++i) to[next[(from[i].key >> shift) & mask]++] = from[i];
    }
  });
}

// Sorts the elements by (Philox key, index), what a stable sort of the keys gives (the CUDA
// radix sort's order): LSD radix passes of at most 11 bits order them by the keys' top bits
// (about log2(n) - 4 of them, so equal top bits are a handful of elements), stably, then each
// run of equal top bits is sorted whole. An indirect comparison sort of n keys would pay a cache
// miss per comparison (11 s for 20M keys on one core, against about 1 s here).
void randperm_cpu(int64_t* out, int64_t n, uint64_t seed, uint64_t offset) {
  // Not value-initialised: every element is written before it is read.
  std::unique_ptr<Keyed[]> a(new Keyed[static_cast<size_t>(n)]), b(new Keyed[static_cast<size_t>(n)]);
  parallel_for(0, n, kCpuGrain / 8, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) a[i] = {random_math::perm_key(seed, offset, static_cast<uint64_t>(i)), i};
  });
  const int top = std::clamp(static_cast<int>(std::bit_width(static_cast<uint64_t>(n / 16))), 1, 33);
  const int passes = (top + 10) / 11, digit = (top + passes - 1) / passes;
  for (int p = 0; p < passes; ++p) {  // least significant of the top digits first
    const int shift = 64 - top + p * digit, bits = std::min(digit, top - p * digit);
    radix_pass(a.get(), b.get(), n, shift, bits);
    a.swap(b);
  }
  // Runs of equal top bits: marked first, then each sorted by the piece where it starts.
  const int drop = 64 - top;
  std::vector<unsigned char> starts(static_cast<size_t>(n) + 1, 1);
  parallel_for(1, n, kCpuGrain, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) starts[i] = a[i].key >> drop != a[i - 1].key >> drop;
  });
  parallel_for(0, n, kCpuGrain, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) {
      if (!starts[i]) continue;
      int64_t e = i + 1;
      while (!starts[e]) ++e;
      if (e - i > 1) std::sort(a.get() + i, a.get() + e);
    }
  });
  parallel_for(0, n, kCpuGrain, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) out[i] = a[i].index;
  });
}

}  // namespace

namespace {
std::atomic<uint64_t> default_seed{0};  // what a thread's default generator starts from
}  // namespace

Generator& default_generator() {
  thread_local Generator g(default_seed.load());
  return g;
}
void manual_seed(uint64_t seed) {
  default_seed.store(seed);
  default_generator() = Generator(seed);
}

Tensor& uniform_(Tensor& t, float low, float high, Generator& gen) {
  check_dtype("uniform_", t, DType::f32, "tensor");
  const int64_t n = t.numel();
  const uint64_t off = gen.advance(philox::uniform_counters(n)), seed = gen.seed();
  float* d = t.data<float>();
  dispatch(
      "uniform_", t.device(),
      [&] {
        parallel_for(0, n, kCpuGrain / 8, [&](int64_t b, int64_t e) {
          for (int64_t i = b; i < e; ++i) d[i] = low + (high - low) * philox::uniform(seed, off, i);
        });
      },
      [&](int dev) { cuda::uniform(d, n, low, high, seed, off, dev); });
  return t;
}

Tensor& normal_(Tensor& t, float mean, float stddev, Generator& gen) {
  check_dtype("normal_", t, DType::f32, "tensor");
  const int64_t n = t.numel();
  const uint64_t off = gen.advance(n), seed = gen.seed();
  float* d = t.data<float>();
  dispatch(
      "normal_", t.device(),
      [&] {
        parallel_for(0, n, kCpuGrain / 8, [&](int64_t b, int64_t e) {
          for (int64_t i = b; i < e; ++i) d[i] = random_math::normal(seed, off, i, mean, stddev);
        });
      },
      [&](int dev) { cuda::normal(d, n, mean, stddev, seed, off, dev); });
  return t;
}

Tensor& randint_(Tensor& t, int64_t n, Generator& gen) {
  CUREC_CHECK(t.dtype() == DType::i32 || t.dtype() == DType::i64, "randint_: needs an i32 or i64 tensor, got ", t.str());
  CUREC_CHECK(n > 0, "randint_: upper bound must be positive, got ", n);
  const int64_t count = t.numel();
  const uint64_t off = gen.advance(philox::below_counters(count)), seed = gen.seed();
  const bool is64 = t.dtype() == DType::i64;
  dispatch(
      "randint_", t.device(),
      [&] {
        parallel_for(0, count, kCpuGrain / 8, [&](int64_t b, int64_t e) {
          for (int64_t i = b; i < e; ++i) {
            auto v = static_cast<int64_t>(philox::below(seed, off, i, static_cast<uint64_t>(n)));
            if (is64) t.data<int64_t>()[i] = v;
            else t.data<int32_t>()[i] = static_cast<int32_t>(v);
          }
        });
      },
      [&](int dev) { cuda::randint(t.raw_data(), is64, count, n, seed, off, dev); });
  return t;
}

Tensor randperm(int64_t n, Generator& gen, Device device) {
  const uint64_t off = gen.advance(n), seed = gen.seed();
  Tensor out = Tensor::empty({n}, DType::i64, device);
  dispatch(
      "randperm", device, [&] { randperm_cpu(out.data<int64_t>(), n, seed, off); },
      [&](int dev) { cuda::randperm(out.data<int64_t>(), n, seed, off, dev); });
  return out;
}

}  // namespace curec
