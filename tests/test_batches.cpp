#include <algorithm>
#include <numeric>

#include "core/device.h"
#include "data/batch_sampler.h"
#include "data/prefetch.h"
#include "data/take.h"
#include "tests/testing.h"

using namespace curec;
using data::BatchSampler;
using data::LastBatch;

namespace {

std::vector<std::vector<int64_t>> host_batches(const std::vector<Tensor>& batches) {
  std::vector<std::vector<int64_t>> out;
  for (const Tensor& b : batches) {
    CHECK(b.dtype() == DType::i64);
    out.push_back(b.to_vector<int64_t>());
  }
  return out;
}

std::vector<int64_t> flat(const std::vector<std::vector<int64_t>>& bs) {
  std::vector<int64_t> v;
  for (const auto& b : bs) v.insert(v.end(), b.begin(), b.end());
  return v;
}

std::vector<std::vector<int64_t>> epochs(BatchSampler& s, int count) {
  std::vector<std::vector<int64_t>> all;
  for (int e = 0; e < count; ++e) {
    auto b = host_batches(s.next_epoch());
    for (auto& x : b) all.push_back(x);
  }
  return all;
}

}  // namespace

TEST_CASE("keep: every index exactly once per epoch, last batch smaller") {
  for (bool shuffle : {false, true}) {
    BatchSampler s(23, 5, shuffle, LastBatch::keep, 7);
    CHECK(s.batches_per_epoch() == 5);
    for (int e = 0; e < 3; ++e) {
      auto b = host_batches(s.next_epoch());
      REQUIRE(b.size() == 5);
      CHECK(b.back().size() == 3);
      std::vector<int64_t> all = flat(b);
      if (!shuffle) {
        std::vector<int64_t> expect(23);
        std::iota(expect.begin(), expect.end(), 0);
        CHECK(all == expect);
      }
      std::sort(all.begin(), all.end());
      for (int64_t i = 0; i < 23; ++i) REQUIRE(all[i] == i);
    }
  }
}

TEST_CASE("drop: full batches only, distinct indices, shuffles differ between epochs") {
  BatchSampler s(23, 5, true, LastBatch::drop, 7);
  CHECK(s.batches_per_epoch() == 4);
  auto e1 = host_batches(s.next_epoch());
  auto e2 = host_batches(s.next_epoch());
  REQUIRE(e1.size() == 4);
  for (const auto& b : e1) CHECK(b.size() == 5);
  std::vector<int64_t> all = flat(e1);
  std::sort(all.begin(), all.end());
  CHECK(std::adjacent_find(all.begin(), all.end()) == all.end());
  CHECK(all.front() >= 0);
  CHECK(all.back() < 23);
  CHECK(flat(e1) != flat(e2));
  CHECK_THROWS_AS(BatchSampler(3, 5, false, LastBatch::drop, 0), Error);
}

TEST_CASE("rollover carries the leftover samples into the next epoch") {
  BatchSampler s(23, 5, false, LastBatch::rollover, 1);
  CHECK(s.batches_per_epoch() == 4);
  auto e1 = host_batches(s.next_epoch());  // 0..19; 20, 21, 22 carried
  REQUIRE(e1.size() == 4);
  CHECK(s.carried() == 3);
  CHECK(s.batches_per_epoch() == 5);  // (3 + 23) / 5
  auto e2 = host_batches(s.next_epoch());
  REQUIRE(e2.size() == 5);
  CHECK(e2[0] == std::vector<int64_t>{20, 21, 22, 0, 1});
  CHECK(e2[4] == std::vector<int64_t>{17, 18, 19, 20, 21});
  CHECK(s.carried() == 1);  // 22
  auto e3 = host_batches(s.next_epoch());
  CHECK(e3[0] == std::vector<int64_t>{22, 0, 1, 2, 3});
  for (const auto& b : e3) CHECK(b.size() == 5);

  // Shuffled: the carried samples are exactly the tail of the previous epoch's order.
  BatchSampler r(23, 5, true, LastBatch::rollover, 9);
  auto first = host_batches(r.next_epoch());
  std::vector<int64_t> order1 = flat(first);
  BatchSampler keep(23, 5, true, LastBatch::keep, 9);  // same seed: same first permutation
  std::vector<int64_t> full1 = flat(host_batches(keep.next_epoch()));
  CHECK(std::equal(order1.begin(), order1.end(), full1.begin()));
  auto second = host_batches(r.next_epoch());
  CHECK(std::vector<int64_t>(second[0].begin(), second[0].begin() + 3) ==
        std::vector<int64_t>(full1.begin() + 20, full1.end()));
  // Over many epochs every sample is served equally often, up to the carried remainder.
  BatchSampler fresh(23, 5, true, LastBatch::rollover, 9);
  std::vector<int64_t> count(23, 0);
  for (const auto& b : epochs(fresh, 20))
    for (int64_t i : b) ++count[i];
  auto [lo, hi] = std::minmax_element(count.begin(), count.end());
  CHECK(*hi - *lo <= 1);
}

TEST_CASE("a seed reproduces the batches") {
  BatchSampler a(50, 8, true, LastBatch::rollover, 42), b(50, 8, true, LastBatch::rollover, 42),
      c(50, 8, true, LastBatch::rollover, 43);
  auto ea = epochs(a, 3), eb = epochs(b, 3), ec = epochs(c, 3);
  CHECK(ea == eb);
  CHECK(ea != ec);
}

TEST_CASE("Prefetcher on the CPU hands out host slices, in order or gathered") {
  Tensor x = Tensor::from_vector<float>({0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, {5, 2});
  Tensor y = Tensor::from_vector<int32_t>({10, 11, 12, 13, 14});
  data::Prefetcher p({x, y}, 2, Device::cpu());
  CHECK(p.num_batches() == 3);
  std::vector<Tensor> b;
  std::vector<int32_t> seen;
  while (p.next(b)) {
    REQUIRE(b.size() == 2);
    CHECK(b[0].size(0) == b[1].size(0));
    for (int32_t v : b[1].to_vector<int32_t>()) seen.push_back(v);
  }
  CHECK(seen == std::vector<int32_t>{10, 11, 12, 13, 14});
  p.start_epoch({4, 2, 0, 1, 3});
  REQUIRE(p.next(b));
  CHECK(b[0].to_vector<float>() == std::vector<float>{8, 9, 4, 5});
  CHECK(b[1].to_vector<int32_t>() == std::vector<int32_t>{14, 12});
  CHECK_THROWS_AS(p.start_epoch({0, 1}), Error);
  data::Prefetcher dropping({x, y}, 2, Device::cpu(), true);
  CHECK(dropping.num_batches() == 2);
}

TEST_SUITE("cuda") {
  TEST_CASE("BatchSampler: the same batches on CPU and CUDA for a seed") {
    for (LastBatch last : {LastBatch::rollover, LastBatch::drop, LastBatch::keep}) {
      BatchSampler cpu(1001, 64, true, last, 5), gpu(1001, 64, true, last, 5, Device::cuda(0));
      for (int e = 0; e < 3; ++e) {
        auto bc = cpu.next_epoch(), bg = gpu.next_epoch();
        REQUIRE(bc.size() == bg.size());
        for (size_t i = 0; i < bc.size(); ++i) {
          CHECK(bg[i].is_cuda());
          CHECK(bg[i].to_vector<int64_t>() == bc[i].to_vector<int64_t>());
        }
      }
    }
  }

  TEST_CASE("BatchSampler + take_rows slice device-resident columns") {
    Device gpu = Device::cuda(0);
    Tensor col = testing::randn({300, 3}, 3);
    Tensor col_gpu = col.to(gpu);
    BatchSampler s(300, 32, true, LastBatch::keep, 11, gpu);
    for (const Tensor& b : s.next_epoch())
      CHECK(data::take_rows(col_gpu, b).to_vector<float>() == data::take_rows(col, b.cpu()).to_vector<float>());
  }

  TEST_CASE("Prefetcher streams every batch to the device intact") {
    Device gpu = Device::cuda(0);
    int64_t n = 1037;
    Tensor x = testing::randn({n, 5}, 8);
    Tensor y = testing::randint({n}, 1000, 9, DType::i64);
    std::vector<uint8_t> m(n);
    for (int64_t i = 0; i < n; ++i) m[i] = static_cast<uint8_t>(i % 3);
    Tensor mask = Tensor::from_vector(m, {n});
    std::vector<int64_t> order(n);
    std::iota(order.begin(), order.end(), 0);
    std::reverse(order.begin(), order.end());
    for (bool ordered : {false, true}) {
      data::Prefetcher p({x, y, mask}, 100, gpu);
      if (ordered) p.start_epoch(order);
      data::Prefetcher ref({x, y, mask}, 100, Device::cpu());
      if (ordered) ref.start_epoch(order);
      std::vector<Tensor> bg, bc;
      int64_t batches = 0;
      while (p.next(bg)) {
        REQUIRE(ref.next(bc));
        CHECK(bg[0].is_cuda());
        CHECK(bg[0].to_vector<float>() == bc[0].to_vector<float>());
        CHECK(bg[1].to_vector<int64_t>() == bc[1].to_vector<int64_t>());
        CHECK(bg[2].to_vector<uint8_t>() == bc[2].to_vector<uint8_t>());
        ++batches;
      }
      CHECK(batches == 11);
    }
  }
}
