// The arithmetic the CUDA kernels share with the CPU, tested here without a GPU: Philox word
// selection, the segmented sum's tree over runs of equal ids, max pooling's window ranges and
// first-maximum gradient, the conv2d algorithm choice and plan cache, and the host-side counters.
#include <algorithm>
#include <cmath>
#include <memory>
#include <numeric>
#include <stdexcept>
#include <vector>

#include "core/allocator.h"
#include "core/philox.h"
#include "core/tensor_kernels.h"
#include "ops/conv2d_plan.h"
#include "ops/max_pool_math.h"
#include "ops/segment_sum_math.h"
#include "tests/testing.h"

using namespace curec;

TEST_CASE("philox: word() selects like v[k]; uniform and below draw the documented words") {
  for (uint64_t c = 0; c < 50; ++c) {
    const philox::U32x4 b = philox::bits(77, c);
    for (uint64_t k = 0; k < 4; ++k) CHECK(philox::word(b, k) == b.v[k]);
  }
  for (uint64_t i = 0; i < 200; ++i) {
    CHECK(philox::uniform(5, 9, i) == philox::to_unit(philox::bits(5, 9 + i / 4).v[i % 4]));
    const philox::U32x4 b = philox::bits(5, 9 + i / 2);
    const uint64_t x = (static_cast<uint64_t>(b.v[(i % 2) * 2]) << 32) | b.v[(i % 2) * 2 + 1];
    CHECK(philox::below(5, 9, i, 1000003) == x % 1000003);
  }
}

namespace {

// What the CUDA sort-and-sum does, on the host: stable sort of (id, position), bad ids last
// under key `rows`, heads by binary search, then every level of segment_sum::sum_level for every
// (slot, column). Returns sums [n, width]; keys are returned too.
std::vector<float> tree_sums(const std::vector<int64_t>& ids, const std::vector<float>& grad, int64_t width,
                             int64_t rows, std::vector<int64_t>& keys) {
  const int64_t n = static_cast<int64_t>(ids.size());
  std::vector<int64_t> pos(n);
  std::iota(pos.begin(), pos.end(), int64_t{0});
  auto key_of = [&](int64_t i) { return ids[i] < 0 || ids[i] >= rows ? rows : ids[i]; };
  std::stable_sort(pos.begin(), pos.end(), [&](int64_t a, int64_t b) { return key_of(a) < key_of(b); });
  keys.resize(n);
  for (int64_t s = 0; s < n; ++s) keys[s] = key_of(pos[s]);
  std::vector<int64_t> heads(n);
  for (int64_t s = 0; s < n; ++s) heads[s] = segment_sum::run_head(keys.data(), s);
  std::vector<float> sums(static_cast<size_t>(n * width), -12345.0f);
  int64_t stride = 1;
  for (int l = 0; l < segment_sum::levels(n); ++l, stride *= segment_sum::kPiece)
    for (int64_t s = n - 1; s >= 0; --s)  // any order: no slot reads what another writes
      for (int64_t c = 0; c < width; ++c)
        segment_sum::sum_level(keys.data(), heads.data(), pos.data(), grad.data(), sums.data(), n, width, rows, stride,
                               s, c);
  return sums;
}

// The documented order for one run: pieces of kPiece in order, then pieces of kPiece sums, ...
float reference_tree(std::vector<float> v) {
  while (v.size() > 1) {
    std::vector<float> next;
    for (size_t i = 0; i < v.size(); i += segment_sum::kPiece) {
      float acc = v[i];
      for (size_t k = i + 1; k < std::min(v.size(), i + segment_sum::kPiece); ++k) acc += v[k];
      next.push_back(acc);
    }
    v = next;
  }
  return v[0];
}

}  // namespace

TEST_CASE("segment_sum: levels and run heads") {
  CHECK(segment_sum::levels(0) == 1);
  CHECK(segment_sum::levels(256) == 1);
  CHECK(segment_sum::levels(257) == 2);
  CHECK(segment_sum::levels(65536) == 2);
  CHECK(segment_sum::levels(65537) == 3);
  const std::vector<int64_t> keys{0, 0, 2, 2, 2, 5, 7, 7};
  const std::vector<int64_t> want{0, 0, 2, 2, 2, 5, 6, 6};
  for (int64_t s = 0; s < 8; ++s) CHECK(segment_sum::run_head(keys.data(), s) == want[s]);
}

TEST_CASE("segment_sum: runs of up to 256 ids sum in position order, exactly as the CPU does") {
  const int64_t rows = 60, width = 5, n = 3000;  // ~50 ids per row, in random positions
  std::vector<int64_t> ids = testing::randint({n}, rows, 3).to_vector<int64_t>();
  std::vector<float> grad = testing::randn({n, width}, 4).to_vector<float>();
  std::vector<int64_t> keys;
  std::vector<float> sums = tree_sums(ids, grad, width, rows, keys);
  int checked = 0;
  for (int64_t j = 0; j < n; ++j) {
    if (!segment_sum::starts_run(keys.data(), j, rows)) continue;
    for (int64_t c = 0; c < width; ++c) {
      float acc = 0.0f;  // the CPU's embedding backward: zeros, then each position in order
      bool first = true;
      for (int64_t i = 0; i < n; ++i)
        if (ids[i] == keys[j]) {
          acc = first ? grad[i * width + c] : acc + grad[i * width + c];
          first = false;
        }
      CHECK(sums[j * width + c] == acc);
    }
    ++checked;
  }
  CHECK(checked == rows);
}

TEST_CASE("segment_sum: a run of 70000 equal ids takes three levels, in the documented tree order") {
  const int64_t n = 70000 + 300, width = 2, rows = 4;
  std::vector<int64_t> ids(n);
  for (int64_t i = 0; i < n; ++i) ids[i] = i % 233 == 0 && i < 300 * 233 ? 1 : 2;  // row 2: the long run
  ids[5] = 9;   // a bad id: sorted last, never summed
  ids[6] = -1;  // another
  std::vector<float> grad = testing::randn({n, width}, 8).to_vector<float>();
  std::vector<int64_t> keys;
  std::vector<float> sums = tree_sums(ids, grad, width, rows, keys);
  CHECK(segment_sum::levels(n) == 3);
  std::vector<int64_t> heads;
  for (int64_t j = 0; j < n; ++j)
    if (segment_sum::starts_run(keys.data(), j, rows)) heads.push_back(j);
  REQUIRE(heads.size() == 2);
  for (int64_t h : heads) {
    const int64_t id = keys[h];
    for (int64_t c = 0; c < width; ++c) {
      std::vector<float> v;
      double exact = 0;
      for (int64_t i = 0; i < n; ++i)
        if (ids[i] == id) {
          v.push_back(grad[i * width + c]);
          exact += grad[i * width + c];
        }
      CHECK(sums[h * width + c] == reference_tree(v));
      CHECK(std::fabs(sums[h * width + c] - exact) < 1e-2);
    }
  }
  CHECK(keys[n - 1] == rows);  // the bad ids went last
  CHECK_FALSE(segment_sum::starts_run(keys.data(), n - 2, rows));
}

TEST_CASE("max_pool_math: the windows holding each element, and the first-maximum gradient") {
  for (int64_t length : {1, 5, 9})
    for (int64_t kernel = 1; kernel <= length; ++kernel)
      for (int64_t stride = 1; stride <= 4; ++stride) {
        const int64_t out_len = (length - kernel) / stride + 1;
        for (int64_t t = 0; t < length; ++t) {
          std::vector<int64_t> want;
          for (int64_t j = 0; j < out_len; ++j)
            if (j * stride <= t && t < j * stride + kernel) want.push_back(j);
          std::vector<int64_t> got;
          for (int64_t j = max_pool_math::first_window(t, kernel, stride);
               j <= max_pool_math::last_window(t, stride, out_len); ++j)
            got.push_back(j);
          CHECK_MESSAGE(got == want, "length ", length, " kernel ", kernel, " stride ", stride, " t ", t);
        }
      }
  // Ties go to the first maximum; the gather adds a window's gradient where a scatter would.
  const std::vector<float> row{3, 3, 1, 3, 3, 0, 2};
  const int64_t kernel = 3, stride = 1, out_len = 5;
  std::vector<int64_t> argmax(out_len);
  for (int64_t j = 0; j < out_len; ++j) argmax[j] = max_pool_math::window_argmax(row.data(), j, kernel, stride);
  CHECK(argmax == std::vector<int64_t>{0, 1, 3, 3, 4});
  const std::vector<float> dy{1, 10, 100, 1000, 10000};
  std::vector<float> dx(row.size());
  for (int64_t t = 0; t < 7; ++t) dx[t] = max_pool_math::gather_grad(argmax.data(), dy.data(), t, kernel, stride, out_len);
  CHECK(dx == std::vector<float>{1, 10, 0, 1100, 10000, 0, 0});
}

TEST_CASE("conv_plan::choose: deterministic FP32 first, else FP32 said to be non-deterministic, never TF32") {
  using conv_plan::Candidate;
  const Candidate a[] = {{true, false, true}, {true, true, false}, {false, true, true}, {true, true, true}};
  auto c = conv_plan::choose(a, 4);
  CHECK(c.index == 3);
  CHECK(c.deterministic);
  const Candidate b[] = {{true, true, false}, {true, false, true}};
  c = conv_plan::choose(b, 2);
  CHECK(c.index == 1);
  CHECK_FALSE(c.deterministic);
  const Candidate t[] = {{true, true, false}, {false, true, true}};
  CHECK(conv_plan::choose(t, 2).index == -1);
  CHECK(conv_plan::choose(t, 0).index == -1);
}

TEST_CASE("conv_plan::LruCache: bounded, least recently used goes first, a value in use survives eviction") {
  struct Plan {
    int id;
    int* alive;
    Plan(int i, int* a) : id(i), alive(a) { ++*alive; }
    ~Plan() { --*alive; }
  };
  int alive = 0, made = 0;
  conv_plan::LruCache<int, Plan> cache(3);
  auto make = [&](int k) { return [&, k] { ++made; return std::make_unique<Plan>(k, &alive); }; };
  auto p1 = cache.get(1, make(1));
  cache.get(2, make(2));
  cache.get(3, make(3));
  CHECK(cache.get(1, make(1))->id == 1);  // a hit, and now the most recent
  CHECK(made == 3);
  cache.get(4, make(4));  // evicts 2, the least recently used
  CHECK(cache.size() == 3);
  CHECK(alive == 3);
  cache.get(2, make(2));  // a miss again: evicts 3
  CHECK(made == 5);
  for (int k = 10; k < 20; ++k) cache.get(k, make(k));  // every batch size of an odd caller
  CHECK(cache.size() == 3);
  CHECK(alive == 4);  // the three cached, and p1, still held here
  CHECK(p1->id == 1);
  p1.reset();
  CHECK(alive == 3);
  bool threw = false;
  try {
    cache.get(99, []() -> std::unique_ptr<Plan> { throw std::runtime_error("no plan"); });
  } catch (const std::runtime_error&) {
    threw = true;
  }
  CHECK(threw);
  CHECK(cache.size() == 3);
}

TEST_CASE("zero_bytes on the CPU; the CPU has no host syncs to count") {
  Tensor t = Tensor::from_vector<int64_t>({5, -1, 7}, {3});
  zero_bytes(t.raw_data(), t.nbytes(), t.device());
  CHECK(t.to_vector<int64_t>() == std::vector<int64_t>{0, 0, 0});
  CHECK(host_sync_count(Device::cpu()) == 0);
}

#if CUREC_WITH_CUDA
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>

TEST_CASE("philox in a kernel keeps its four words in registers: ptxas reports no stack frame") {
  // The negative sampler's kernel, as data/negative_sampler.cu has it (its error flag aside):
  // indexing U32x4::v with a runtime value gave it a 16-byte stack frame.
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / "curec-philox-ptxas";
  std::filesystem::create_directories(dir);
  const std::filesystem::path src = dir / "k.cu";
  std::ofstream(src) << R"(#include "core/philox.h"
#include "data/negative_sampler_math.h"
using namespace curec;
__global__ void sample_kernel(const int64_t* row_ptr, const int32_t* cols, int64_t num_users, int64_t num_items,
                              const void* users, bool users64, int64_t n, int64_t k, uint64_t seed, uint64_t epoch,
                              int64_t first, int64_t* out, int* flag) {
  for (int64_t s = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; s < n * k; s += int64_t(gridDim.x) * blockDim.x) {
    int64_t i = s / k;
    int64_t u = users64 ? static_cast<const int64_t*>(users)[i] : static_cast<const int32_t*>(users)[i];
    if (u < 0 || u >= num_users) { if (s % k == 0) atomicCAS(flag, 0, 1); out[s] = 0; continue; }
    int64_t b = row_ptr[u];
    out[s] = data::negative_math::draw(seed, epoch, cols + b, row_ptr[u + 1] - b, num_items,
                                       static_cast<uint64_t>(first * k + s));
  }
}
__global__ void uniform_kernel(float* out, uint64_t seed, uint64_t off, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    out[i] = philox::uniform(seed, off, i);
}
)";
  std::string nvcc = "nvcc";
  if (std::system("command -v nvcc >/dev/null 2>&1") != 0) nvcc = "/usr/local/cuda/bin/nvcc";
  const std::string cmd = nvcc + " -std=c++20 -arch=sm_90 -I'" + std::string(CUREC_SOURCE_DIR) +
                          "' -Xptxas -v -c '" + src.string() + "' -o '" + (dir / "k.o").string() + "' 2>&1";
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  REQUIRE(p);
  char buf[4096];
  while (size_t got = fread(buf, 1, sizeof buf, p)) out.append(buf, got);
  const int status = pclose(p);
  std::filesystem::remove_all(dir);
  REQUIRE_MESSAGE(status == 0, "nvcc failed (a CUDA build has nvcc): ", out);
  const std::regex frame(R"((\d+) bytes stack frame)");
  int kernels = 0;
  for (std::sregex_iterator it(out.begin(), out.end(), frame), end; it != end; ++it, ++kernels)
    CHECK_MESSAGE((*it)[1] == "0", "a kernel drawing from Philox has a stack frame: ", out);
  CHECK_MESSAGE(kernels == 2, out);
}
#endif
