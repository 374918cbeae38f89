// curec's CPU thread pool (core/parallel.h): the API's contract, and results that do not depend
// on the thread count, bit for bit, for the ops it splits and for whole MF and DeepFM training steps.
#include <atomic>
#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <stdexcept>
#include <vector>

#include "core/autograd.h"
#include "core/parallel.h"
#include "core/random.h"
#include "data/negative_sampler.h"
#include "data/take.h"
#include "models/deepfm.h"
#include "models/mf.h"
#include "nn/adam.h"
#include "nn/sgd.h"
#include "ops/conv2d.h"
#include "ops/dropout.h"
#include "ops/elementwise.h"
#include "ops/embedding.h"
#include "ops/loss.h"
#include "ops/matmul.h"
#include "ops/mf_step.h"
#include "ops/reduce.h"
#include "tests/testing.h"

using namespace curec;
using testing::randn;

namespace {

// Restores the thread count a test changed.
struct ThreadCount {
  int saved = cpu_threads();
  ~ThreadCount() { set_cpu_threads(saved); }
};

using Bytes = std::vector<unsigned char>;

void append(Bytes& out, const Tensor& t) {
  REQUIRE(t.defined());
  Tensor c = t.cpu();
  const auto* p = static_cast<const unsigned char*>(c.raw_data());
  out.insert(out.end(), p, p + c.nbytes());
}

// Runs `run` (which returns the bytes of everything it computed) with 1, 2 and 3 threads: every
// run must give the one-thread bytes.
void check_thread_independent(const std::string& what, const std::function<Bytes()>& run) {
  CAPTURE(what);
  ThreadCount restore;
  std::vector<Bytes> runs;
  for (int threads : {1, 2, 3}) {
    set_cpu_threads(threads);
    runs.push_back(run());
  }
  REQUIRE(!runs[0].empty());
  CHECK(runs[1] == runs[0]);
  CHECK(runs[2] == runs[0]);
}

Tensor ids(int64_t n, int64_t rows, uint64_t seed) { return testing::randint({n}, rows, seed); }

}  // namespace

TEST_CASE("parallel_for: covers the range once, in pieces of at least the grain") {
  ThreadCount restore;
  for (int threads : {1, 2, 3}) {
    set_cpu_threads(threads);
    CHECK(cpu_threads() == threads);
    const int64_t n = 1'000'003;
    std::vector<std::atomic<int>> hits(n);
    std::atomic<int64_t> smallest{n};
    parallel_for(5, n, 1000, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) hits[i].fetch_add(1);
      if (e < n) {
        int64_t len = e - b, cur = smallest.load();
        while (len < cur && !smallest.compare_exchange_weak(cur, len)) {}
      }
    });
    for (int64_t i = 0; i < 5; ++i) CHECK(hits[i].load() == 0);
    int64_t wrong = 0;
    for (int64_t i = 5; i < n; ++i) wrong += hits[i].load() != 1;
    CHECK(wrong == 0);
    CHECK(smallest.load() >= 1000);
  }
}

TEST_CASE("parallel_for: small ranges, one thread and nested calls run inline on the caller") {
  ThreadCount restore;
  set_cpu_threads(3);
  int calls = 0;
  bool nested_inline = true;
  parallel_for(0, 100, 100, [&](int64_t b, int64_t e) {
    ++calls;  // one piece: no data race
    CHECK(b == 0);
    CHECK(e == 100);
    CHECK_FALSE(in_parallel_region());
  });
  CHECK(calls == 1);
  parallel_for(0, 8, 1, [&](int64_t, int64_t) {
    if (!in_parallel_region()) nested_inline = false;
    int inner = 0;
    parallel_for(0, 1'000'000, 1, [&](int64_t b, int64_t e) {
      ++inner;  // inline: one call with the whole range
      if (b != 0 || e != 1'000'000) nested_inline = false;
    });
    if (inner != 1) nested_inline = false;
  });
  CHECK(nested_inline);
  CHECK_FALSE(in_parallel_region());
  set_cpu_threads(1);
  calls = 0;
  parallel_for(0, 1'000'000, 1, [&](int64_t, int64_t) { ++calls; });
  CHECK(calls == 1);
}

TEST_CASE("parallel_for: an exception in one piece reaches the caller; the pool still works") {
  ThreadCount restore;
  set_cpu_threads(2);
  CHECK_THROWS_WITH_AS(parallel_for(0, 1'000'000, 10, [](int64_t b, int64_t e) {
                         if (b <= 500'000 && 500'000 < e) throw std::runtime_error("piece failed");
                       }),
                       "piece failed", std::runtime_error);
  std::atomic<int64_t> total{0};
  parallel_for(0, 1'000'000, 10, [&](int64_t b, int64_t e) { total += e - b; });
  CHECK(total.load() == 1'000'000);
}

TEST_CASE("parallel_reduce: fixed pieces folded in order, whatever the thread count") {
  std::vector<float> x(300'001);
  for (size_t i = 0; i < x.size(); ++i) x[i] = 1.0f / static_cast<float>(i % 97 + 1) * (i % 2 ? 1.0f : -3.0f);
  check_thread_independent("float sum in pieces", [&] {
    float s = parallel_reduce(
        int64_t{0}, static_cast<int64_t>(x.size()), 4096, 0.0f,
        [&](int64_t b, int64_t e) {
          float a = 0;
          for (int64_t i = b; i < e; ++i) a += x[i];
          return a;
        },
        [](float a, float b) { return a + b; });
    Bytes out(sizeof s);
    std::memcpy(out.data(), &s, sizeof s);
    return out;
  });
  // A range of one piece is map(begin, end) folded onto init.
  CHECK(parallel_reduce(int64_t{3}, int64_t{10}, 100, 1, [](int64_t b, int64_t e) { return int(e - b); },
                        [](int a, int b) { return a * 10 + b; }) == 17);
}

TEST_CASE("set_cpu_threads: rejects counts below 1 and calls from inside a parallel_for") {
  ThreadCount restore;
  CHECK(testing::error_of([] { set_cpu_threads(0); }).find("set_cpu_threads: 0 is not a thread count") !=
        std::string::npos);
  set_cpu_threads(2);
  std::string inside;
  parallel_for(0, 2, 1, [&](int64_t b, int64_t) {
    if (b == 0) inside = testing::error_of([] { set_cpu_threads(3); });
  });
  CHECK(inside.find("inside a parallel_for") != std::string::npos);
  CHECK(cpu_threads() == 2);
}

TEST_CASE("thread count: element-wise ops, reductions and their gradients are bitwise the same") {
  check_thread_independent("element-wise and reductions", [] {
    Tensor a = randn({400, 1000}, 1), row = randn({1000}, 2), col = randn({400, 1}, 3);
    a.set_requires_grad();
    row.set_requires_grad();
    col.set_requires_grad();
    Tensor y = sigmoid(a * row) + relu(a - col) / (exp(square(col)) + 1.0f);
    Tensor total = sum(y) + mean(sum(y, 0)) * 3.0f + sum(sum(y, 1) * sum(y, 1));
    total.backward();
    Bytes out;
    for (const Tensor& t : {y, total, sum(y, 0), sum(y, 1), a.grad(), row.grad(), col.grad()}) append(out, t);
    return out;
  });
}

TEST_CASE("thread count: dropout masks, unkeyed and keyed by rows, and their gradients are bitwise the same") {
  check_thread_independent("dropout", [] {
    Bytes out;
    for (bool keyed : {false, true}) {
      Generator gen(7);
      Tensor x = randn({300, 501}, 4);  // 501: rows end mid-way through a Philox draw of four
      x.set_requires_grad();
      std::optional<DropoutRows> rows;
      if (keyed) rows.emplace(100, 700);  // these 300 rows from row 100 of a 700-row batch
      Tensor y = dropout(x, 0.3f, true, gen);
      sum(y * y).backward();
      append(out, y);
      append(out, x.grad());
    }
    return out;
  });
}

TEST_CASE("thread count: embedding gather/scatter, matmul, conv2d, take_rows and samplers") {
  check_thread_independent("embedding", [] {
    Tensor table = randn({3000, 24}, 4);
    table.set_requires_grad();
    Tensor idx = ids(90'000, 3000, 5);  // many repeats per row
    Tensor e = embedding(table, idx, {.deterministic = true});
    sum(e * e).backward();
    Bytes out;
    append(out, e);
    append(out, table.grad());
    append(out, scatter_add_rows(randn({90'000, 24}, 6), idx, {3000, 24}, true));
    return out;
  });
  check_thread_independent("matmul", [] {
    Bytes out;
    for (bool ta : {false, true})
      for (bool tb : {false, true}) {
        Tensor a = randn(ta ? Shape{300, 500} : Shape{500, 300}, 7), b = randn(tb ? Shape{200, 300} : Shape{300, 200}, 8);
        a.set_requires_grad();
        b.set_requires_grad();
        Tensor c = matmul(a, b, ta, tb);
        sum(c * c).backward();
        append(out, c);
        append(out, a.grad());
        append(out, b.grad());
      }
    Tensor wide = matmul(randn({40, 300}, 9), randn({300, 3000}, 10));  // split along the columns
    append(out, wide);
    return out;
  });
  check_thread_independent("conv2d", [] {
    Tensor x = randn({64, 1, 5, 40}, 11), w = randn({16, 1, 3, 40}, 12), b = randn({16}, 13);
    x.set_requires_grad();
    w.set_requires_grad();
    b.set_requires_grad();
    Tensor y = conv2d(x, w, b);
    sum(y * y).backward();
    Bytes out;
    for (const Tensor& t : {y, x.grad(), w.grad(), b.grad()}) append(out, t);
    return out;
  });
  check_thread_independent("take_rows, randperm, randint, normal, negatives", [] {
    Bytes out;
    Tensor col = randn({200'000}, 14), idx = ids(150'000, 200'000, 15);
    append(out, data::take_rows(col, idx));
    Generator gen(3);
    append(out, randperm(500'000, gen));
    Tensor r = Tensor::empty({300'000}, DType::i64);
    append(out, randint_(r, 77, gen));
    Tensor nrm = Tensor::empty({300'000});
    append(out, normal_(nrm, 0.0f, 1.0f, gen));
    auto sampler = data::NegativeSampler::from_pairs({0, 0, 1, 2, 2, 2}, {1, 3, 0, 4, 5, 6}, 3, 50, 4, 9);
    append(out, sampler.sample(ids(40'000, 3, 16), 2, 7));
    return out;
  });
}

TEST_CASE("thread count: MF training steps (sparse and dense Adam, the fused step) are bitwise the same") {
  const int64_t users = 4000, items = 2500, n = 30'000;
  Tensor u = ids(n, users, 17), i = ids(n, items, 18);
  Tensor r = testing::rand_uniform({n}, 19, 1.0f, 5.0f);
  for (bool sparse : {true, false})
    check_thread_independent(sparse ? "MF, row-sparse, lazy Adam" : "MF, dense, Adam", [&] {
      Generator gen(21);
      models::MFConfig c;
      c.num_users = users;
      c.num_items = items;
      c.factors = 32;
      c.sparse_grad = sparse;
      models::MatrixFactorization m(c, gen);
      nn::Adam opt(m.parameters(), {.lr = 0.01f, .weight_decay = 1e-4f});
      Bytes out;
      for (int step = 0; step < 3; ++step) {
        opt.zero_grad();
        Tensor loss = squared_error(m.predict(u, i), r, Reduction::mean);
        loss.backward();
        opt.step();
        append(out, loss);
      }
      for (const Tensor& p : m.parameters()) append(out, p);
      return out;
    });
  check_thread_independent("MF, fused step, SGD", [&] {
    Generator gen(22);
    models::MFConfig c;
    c.num_users = users;
    c.num_items = items;
    c.factors = 32;
    models::MatrixFactorization m(c, gen);
    nn::SGD opt(m.parameters(), {.lr = 0.5f, .momentum = 0.9f, .weight_decay = 1e-4f});
    Bytes out;
    for (int step = 0; step < 3; ++step) {
      std::vector<Tensor> grads;
      for (const Tensor& p : m.parameters()) grads.push_back(Tensor::zeros(p.shape()));
      Tensor loss = Tensor::zeros({1});
      mf_fused_step(m.user_factors(), m.item_factors(), m.user_bias(), m.item_bias(), u, i, r, grads[0], grads[1],
                    grads[2], grads[3], loss);
      std::vector<Tensor> params = m.parameters();
      for (size_t k = 0; k < params.size(); ++k) params[k].set_grad(grads[k]);
      opt.step();
      append(out, loss);
    }
    for (const Tensor& p : m.parameters()) append(out, p);
    return out;
  });
}

TEST_CASE("thread count: DeepFM training steps (dropout, MLP, FM interaction, Adam) are bitwise the same") {
  const std::vector<int64_t> dims{2000, 800, 300, 60, 7};
  const int64_t batch = 4096;
  std::vector<int32_t> x;
  for (int64_t b = 0; b < batch; ++b) {
    int64_t offset = 0;
    for (size_t f = 0; f < dims.size(); ++f) {
      x.push_back(static_cast<int32_t>(offset + (b * 7919 + static_cast<int64_t>(f) * 104729) % dims[f]));
      offset += dims[f];
    }
  }
  Tensor fields = Tensor::from_vector(x, {batch, static_cast<int64_t>(dims.size())});
  Tensor labels = testing::randint({batch}, 2, 23, DType::i64);
  std::vector<float> lf;
  for (int64_t v : labels.to_vector<int64_t>()) lf.push_back(static_cast<float>(v));
  Tensor y = Tensor::from_vector(lf, {batch});
  check_thread_independent("DeepFM", [&] {
    Generator gen(24);
    models::DeepFMConfig c;
    c.field_dims = dims;
    c.factors = 16;
    c.hidden = {128, 64};
    models::DeepFM m(c, gen);
    m.train();
    nn::Adam opt(m.parameters(), {.lr = 0.01f});
    Bytes out;
    for (int step = 0; step < 3; ++step) {
      opt.zero_grad();
      Tensor loss = bce_with_logits(m.logits(fields), y, Reduction::mean);
      loss.backward();
      opt.step();
      append(out, loss);
    }
    for (const Tensor& p : m.parameters()) append(out, p);
    return out;
  });
}
