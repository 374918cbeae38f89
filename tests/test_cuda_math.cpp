// The arithmetic the CUDA kernels share with the CPU, tested here without a GPU: Philox word
// selection, the segmented sum's tree over runs of equal ids, max pooling's window ranges and
// first-maximum gradient, the conv2d algorithm choice and plan cache, and the host-side counters.
#include <memory>
#include <stdexcept>
#include <vector>

#include "core/allocator.h"
#include "core/tensor_kernels.h"
#include "ops/conv2d_plan.h"
#include "ops/max_pool_math.h"
#include "tests/testing.h"

using namespace curec;

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
