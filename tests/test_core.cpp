#include <set>

#include "core/allocator.h"
#include "core/autograd.h"
#include "core/philox.h"
#include "core/random.h"
#include "ops/elementwise.h"
#include "ops/reduce.h"
#include "tests/testing.h"

using namespace curec;

TEST_CASE("tensor factories, metadata and host round trips") {
  Tensor t = Tensor::from_vector<float>({1, 2, 3, 4, 5, 6}, {2, 3});
  CHECK(t.shape() == Shape{2, 3});
  CHECK(t.numel() == 6);
  CHECK(t.dim() == 2);
  CHECK(t.size(-1) == 3);
  CHECK(t.dtype() == DType::f32);
  CHECK(t.str() == "f32[2, 3] on cpu");
  CHECK(Tensor::zeros({3}).to_vector<float>() == std::vector<float>{0, 0, 0});
  CHECK(Tensor::full({2}, 2.5f).to_vector<float>() == std::vector<float>{2.5f, 2.5f});
  CHECK(Tensor::arange(4).to_vector<int64_t>() == std::vector<int64_t>{0, 1, 2, 3});
  CHECK(Tensor::arange(3, DType::i32).to_vector<int32_t>() == std::vector<int32_t>{0, 1, 2});
  CHECK(Tensor::zeros({2}, DType::u8).to_vector<uint8_t>() == std::vector<uint8_t>{0, 0});
  CHECK_THROWS_WITH_AS(t.data<int64_t>(), doctest::Contains("dtype f32"), Error);
  CHECK_THROWS_WITH_AS(Tensor::from_vector<float>({1, 2}, {3}), doctest::Contains("do not fill"), Error);
  CHECK_THROWS_AS(t.size(2), Error);
}

TEST_CASE("views share storage; row slices stay contiguous") {
  Tensor t = Tensor::from_vector<float>({1, 2, 3, 4, 5, 6}, {3, 2});
  Tensor v = t.view({6});
  v.data<float>()[0] = 9;
  CHECK(t.to_vector<float>()[0] == 9);
  Tensor r = t.rows(1, 2);
  CHECK(r.shape() == Shape{2, 2});
  CHECK(r.to_vector<float>() == std::vector<float>{3, 4, 5, 6});
  CHECK_THROWS_AS(t.rows(2, 2), Error);
  CHECK_THROWS_WITH_AS(t.view({4}), doctest::Contains("cannot view"), Error);
  Tensor c = t.clone();
  c.data<float>()[1] = -1;
  CHECK(t.to_vector<float>()[1] == 2);
}

TEST_CASE("devices parse and errors are clear") {
  CHECK(Device::parse("cpu") == Device::cpu());
  CHECK(Device::parse("cuda:1") == Device::cuda(1));
  CHECK(Device::parse("cuda") == Device::cuda(0));
  CHECK_THROWS_WITH_AS(Device::parse("gpu"), doctest::Contains("use cpu, cuda or cuda:N"), Error);
  CHECK_THROWS_AS(Device::parse("cuda:x"), Error);
  try {
    CUREC_FAIL("boom ", 42);
  } catch (const Error& e) {
    CHECK(std::string(e.what()).find("boom 42 [tests/test_core.cpp:") == 0);
    CHECK(e.line() > 0);
  }
}

TEST_CASE("philox: known-answer vector and reproducible draws") {
  // Random123's published test vector for philox4x32-10 with zero counter and key.
  philox::U32x4 b = philox::bits(0, 0);
  CHECK(b.v[0] == 0x6627e8d5u);
  CHECK(b.v[1] == 0xe169c58du);
  CHECK(b.v[2] == 0xbc57ac4cu);
  CHECK(b.v[3] == 0x9b00dbd8u);
  Generator g1(42), g2(42), g3(43);
  Tensor a = Tensor::empty({1000}), c = Tensor::empty({1000}), d = Tensor::empty({1000});
  uniform_(a, 0, 1, g1);
  uniform_(c, 0, 1, g2);
  uniform_(d, 0, 1, g3);
  CHECK(a.to_vector<float>() == c.to_vector<float>());
  CHECK(a.to_vector<float>() != d.to_vector<float>());
  CHECK(g1.offset() == 250);
  double m = mean(a).item();
  CHECK(m == doctest::Approx(0.5).epsilon(0.05));
  Tensor n = Tensor::empty({20000});
  normal_(n, 1.0f, 2.0f, g1);
  CHECK(mean(n).item() == doctest::Approx(1.0).epsilon(0.05));
  Tensor centred = n - 1.0f;
  CHECK(std::sqrt(mean(centred * centred).item()) == doctest::Approx(2.0).epsilon(0.03));
}

TEST_CASE("randperm is a permutation; randint stays in range") {
  Generator g(7);
  std::vector<int64_t> p = randperm(1000, g).to_vector<int64_t>();
  std::set<int64_t> s(p.begin(), p.end());
  CHECK(s.size() == 1000);
  CHECK(*s.begin() == 0);
  CHECK(*s.rbegin() == 999);
  Tensor r = Tensor::empty({5000}, DType::i32);
  randint_(r, 17, g);
  std::vector<int32_t> v = r.to_vector<int32_t>();
  CHECK(*std::min_element(v.begin(), v.end()) == 0);
  CHECK(*std::max_element(v.begin(), v.end()) == 16);
}

TEST_CASE("autograd: chain rule, accumulation across backward calls, no-grad guard") {
  Tensor x = Tensor::from_vector<float>({1, 2, 3}, {3});
  x.set_requires_grad();
  Tensor y = sum(x * x);
  y.backward();
  CHECK(x.grad().to_vector<float>() == std::vector<float>{2, 4, 6});
  sum(x * 3.0f).backward();
  CHECK(x.grad().to_vector<float>() == std::vector<float>{5, 7, 9});
  x.zero_grad();
  CHECK(!x.grad().defined());
  {
    NoGradGuard ng;
    Tensor z = x * x;
    CHECK(!z.requires_grad());
  }
  Tensor w = Tensor::from_vector<float>({1, 1, 1}, {3});
  CHECK_THROWS_WITH_AS(sum(w).backward(), doctest::Contains("does not require grad"), Error);
  CHECK_THROWS_WITH_AS((x * 2.0f).backward(), doctest::Contains("needs the gradient"), Error);
  Tensor d = (x * 2.0f).detach();
  CHECK(!d.requires_grad());
}

TEST_CASE("autograd: the observer hears of the graph's leaves, then of each as its gradient completes") {
  // loss = sum(w2 * (w1 * (w1 * x))): w2 completes at the top of backward, w1 (two edges) at its
  // bottom; `unused` is no part of the graph.
  Tensor x = Tensor::from_vector<float>({1, 2}, {2});
  Tensor w1 = Tensor::from_vector<float>({3, 4}, {2}).set_requires_grad();
  Tensor w2 = Tensor::from_vector<float>({5, 6}, {2}).set_requires_grad();
  Tensor unused = Tensor::zeros({2}).set_requires_grad();
  Tensor loss = sum(w2 * (w1 * (w1 * x)));
  std::vector<const TensorImpl*> graph;
  std::vector<std::pair<const TensorImpl*, std::vector<float>>> ready;  // the leaf, and its gradient then
  bool w1_grad_when_w2_ready = true;
  BackwardObserver obs;
  obs.on_graph = [&](const std::vector<const TensorImpl*>& leaves) { graph = leaves; };
  obs.on_leaf_ready = [&](const TensorImpl& leaf) {
    const Tensor& t = &leaf == w1.impl() ? w1 : w2;
    ready.emplace_back(&leaf, t.grad().to_vector<float>());
    if (&leaf == w2.impl()) w1_grad_when_w2_ready = w1.grad().defined();
  };
  loss.backward(Tensor(), obs);
  CHECK(std::set<const TensorImpl*>(graph.begin(), graph.end()) ==
        std::set<const TensorImpl*>{w1.impl(), w2.impl()});
  CHECK(graph.size() == 2);
  REQUIRE(ready.size() == 2);  // once each, `unused` never
  CHECK(ready[0].first == w2.impl());
  CHECK(ready[1].first == w1.impl());
  CHECK(!w1_grad_when_w2_ready);  // w2 was reported while backward had yet to reach w1
  // Each was reported with its whole gradient: d/dw2 = w1² x, d/dw1 = 2 w1 w2 x.
  CHECK(ready[0].second == std::vector<float>{9, 32});
  CHECK(ready[1].second == std::vector<float>{30, 96});
  CHECK(w1.grad().to_vector<float>() == ready[1].second);
  CHECK(!unused.grad().defined());
  // A leaf as the root: the graph is itself.
  std::vector<const TensorImpl*> alone;
  int calls = 0;
  Tensor s = Tensor::from_vector<float>({2}, {1}).set_requires_grad();
  s.backward(Tensor(), {[&](const std::vector<const TensorImpl*>& l) { alone = l; }, [&](const TensorImpl&) { ++calls; }});
  CHECK(alone == std::vector<const TensorImpl*>{s.impl()});
  CHECK(calls == 1);
}

TEST_CASE("cpu memory stats track tensors") {
  MemoryStats before = memory_stats(Device::cpu());
  {
    Tensor big = Tensor::empty({1 << 20});
    CHECK(memory_stats(Device::cpu()).in_use_bytes >= before.in_use_bytes + (4u << 20));
  }
  CHECK(memory_stats(Device::cpu()).in_use_bytes == before.in_use_bytes);
}

TEST_SUITE("cuda") {
  TEST_CASE("cuda: round trips, philox parity, caching allocator reuse") {
    Device g = Device::cuda(0);
    Tensor t = Tensor::from_vector<float>({1, 2, 3}, {3}, g);
    CHECK(t.is_cuda());
    CHECK(t.to_vector<float>() == std::vector<float>{1, 2, 3});
    CHECK(Tensor::full({4}, 3.0f, g).to_vector<float>() == std::vector<float>{3, 3, 3, 3});
    Generator a(5), b(5);
    Tensor u_cpu = Tensor::empty({4097}), u_gpu = Tensor::empty({4097}, DType::f32, g);
    uniform_(u_cpu, -1, 1, a);
    uniform_(u_gpu, -1, 1, b);
    CHECK(u_cpu.to_vector<float>() == u_gpu.to_vector<float>());
    Tensor n_cpu = Tensor::empty({4097}), n_gpu = Tensor::empty({4097}, DType::f32, g);
    normal_(n_cpu, 0, 1, a);
    normal_(n_gpu, 0, 1, b);
    testing::check_close(n_gpu, n_cpu, 1e-5f, 1e-5f, "normal draws");
    CHECK(randperm(3000, a, Device::cpu()).to_vector<int64_t>() == randperm(3000, b, g).to_vector<int64_t>());
    Tensor ri_cpu = Tensor::empty({999}, DType::i64), ri_gpu = Tensor::empty({999}, DType::i64, g);
    randint_(ri_cpu, 1682, a);
    randint_(ri_gpu, 1682, b);
    CHECK(ri_cpu.to_vector<int64_t>() == ri_gpu.to_vector<int64_t>());
    // Steady state: the same allocation pattern again reaches no cudaMalloc.
    for (int i = 0; i < 2; ++i) Tensor x = Tensor::empty({1000, 30}, DType::f32, g);
    uint64_t mallocs = memory_stats(g).system_allocations;
    for (int i = 0; i < 10; ++i) Tensor x = Tensor::empty({1000, 30}, DType::f32, g);
    CHECK(memory_stats(g).system_allocations == mallocs);
    CHECK(memory_stats(g).peak_bytes >= 120000);
    CHECK(memory_stats(g).cached_bytes > 0);
  }
}

TEST_CASE("zero_ clears every dtype in place (one memset of the storage, no host copy)") {
  Tensor f = Tensor::full({3, 5}, 2.5f);
  Tensor i = Tensor::from_vector<int64_t>({7, -1, 9}, {3});
  Tensor j = Tensor::from_vector<int32_t>({4, 5}, {2});
  Tensor m = Tensor::from_vector<uint8_t>({1, 255, 3}, {3});
  f.zero_();
  i.zero_();
  j.zero_();
  m.zero_();
  for (float v : f.to_vector<float>()) CHECK(v == 0.0f);
  CHECK(i.to_vector<int64_t>() == std::vector<int64_t>{0, 0, 0});
  CHECK(j.to_vector<int32_t>() == std::vector<int32_t>{0, 0});
  CHECK(m.to_vector<uint8_t>() == std::vector<uint8_t>{0, 0, 0});
  // A view clears only its rows.
  Tensor k = Tensor::from_vector<int64_t>({1, 2, 3, 4}, {4});
  k.rows(1, 2).zero_();
  CHECK(k.to_vector<int64_t>() == std::vector<int64_t>{1, 0, 0, 4});
}

TEST_SUITE("cuda") {
  TEST_CASE("zero_ of a non-f32 CUDA tensor makes the host wait for nothing") {
    Tensor i = Tensor::from_vector<int64_t>({7, -1, 9}, {3}, Device::cuda(0));
    const uint64_t syncs = host_sync_count(Device::cuda(0));
    i.zero_();
    CHECK(host_sync_count(Device::cuda(0)) == syncs);
    CHECK(i.to_vector<int64_t>() == std::vector<int64_t>{0, 0, 0});
  }
}
