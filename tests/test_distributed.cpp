// The communicator (train/distributed), on the CPU with in-process ranks over threads.
#include <atomic>
#include <chrono>
#include <cmath>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "train/distributed/communicator.h"
#include "train/distributed/thread_group.h"
#include "tests/testing.h"

using namespace curec;
using namespace curec::dist;
using curec::testing::error_of;

namespace {

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// Rank r's values: distinct per rank and element, with fractions so that the summation order
// matters in float.
std::vector<float> rank_values(int rank, int64_t n) {
  std::vector<float> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[i] = 0.1f * static_cast<float>(rank + 1) + 1e-3f * static_cast<float>(i) + (rank % 2 ? 1e7f : 0.0f);
  return v;
}

// Element-wise sum in rank order (((r0 + r1) + r2) ...), as the backend promises.
std::vector<float> rank_order_sum(int n, int64_t count) {
  std::vector<float> s = rank_values(0, count);
  for (int r = 1; r < n; ++r) {
    std::vector<float> v = rank_values(r, count);
    for (int64_t i = 0; i < count; ++i) s[i] += v[i];
  }
  return s;
}

}  // namespace

TEST_CASE("thread all_reduce sums (and averages) in rank order on every rank, for 1, 2 and 3 ranks") {
  for (int n : {1, 2, 3}) {
    CAPTURE(n);
    for (int64_t count : {int64_t{0}, int64_t{1}, int64_t{2}, int64_t{7}, int64_t{1000}}) {
      CAPTURE(count);
      std::vector<float> expected = rank_order_sum(n, count);
      std::mutex m;
      std::vector<std::vector<float>> got(n), avg(n);
      run_ranks(n, [&](Communicator& c) {
        CHECK(c.world_size() == n);
        Tensor t = Tensor::from_vector<float>(rank_values(c.rank(), count), {count});
        c.all_reduce(t, ReduceOp::sum);
        Tensor a = Tensor::from_vector<float>(rank_values(c.rank(), count), {count});
        c.all_reduce(a, ReduceOp::avg);
        std::lock_guard lock(m);
        got[c.rank()] = t.to_vector<float>();
        avg[c.rank()] = a.to_vector<float>();
      });
      for (int r = 0; r < n; ++r) {
        REQUIRE(got[r].size() == expected.size());
        for (int64_t i = 0; i < count; ++i) {
          CHECK(got[r][i] == expected[i]);  // bit for bit: the same order everywhere
          CHECK(avg[r][i] == expected[i] / static_cast<float>(n));
        }
      }
    }
  }
}

TEST_CASE("thread all_reduce of integers, and of a 2-D tensor, in place") {
  run_ranks(3, [](Communicator& c) {
    Tensor i = Tensor::from_vector<int64_t>({c.rank() + 1, 10 * (c.rank() + 1)}, {2});
    c.all_reduce(i);
    CHECK(i.to_vector<int64_t>() == std::vector<int64_t>{6, 60});
    Tensor j = Tensor::from_vector<int32_t>({c.rank()}, {1});
    c.all_reduce(j);
    CHECK(j.to_vector<int32_t>()[0] == 3);
    Tensor m = Tensor::full({2, 3}, static_cast<float>(c.rank()));
    Tensor view = m.rows(1, 1);  // a view: only that row changes
    c.all_reduce(view);
    std::vector<float> v = m.to_vector<float>();
    for (int k = 0; k < 3; ++k) {
      CHECK(v[k] == static_cast<float>(c.rank()));
      CHECK(v[3 + k] == 3.0f);
    }
    // avg of integers is refused with advice
    CHECK(contains(error_of([&] { c.all_reduce(i, ReduceOp::avg); }), "is not f32"));
  });
}

TEST_CASE("thread all_reduce is deterministic: the same bits whatever the thread timing") {
  const int n = 3;
  const int64_t count = 4099;
  std::vector<float> first;
  for (int trial = 0; trial < 8; ++trial) {
    std::vector<std::vector<float>> got(n);
    run_ranks(n, [&](Communicator& c) {
      // Stagger the ranks differently on every trial.
      std::this_thread::sleep_for(std::chrono::microseconds(((trial + c.rank()) % n) * 300));
      Tensor t = Tensor::from_vector<float>(rank_values(c.rank(), count), {count});
      c.all_reduce(t);
      got[c.rank()] = t.to_vector<float>();
    });
    for (int r = 1; r < n; ++r) CHECK(got[r] == got[0]);
    if (trial == 0) first = got[0];
    CHECK(got[0] == first);
  }
  CHECK(first == rank_order_sum(n, count));
}

TEST_CASE("thread broadcast copies the root's tensor to every rank") {
  for (int n : {1, 2, 3}) {
    for (int root = 0; root < n; ++root) {
      run_ranks(n, [&](Communicator& c) {
        Tensor t = Tensor::from_vector<float>({static_cast<float>(c.rank()), -1.0f, 2.5f * c.rank()}, {3});
        c.broadcast(t, root);
        CHECK(t.to_vector<float>() == std::vector<float>{static_cast<float>(root), -1.0f, 2.5f * root});
        Tensor b = Tensor::from_vector<uint8_t>({static_cast<uint8_t>(c.rank())}, {1});
        c.broadcast(b, root);
        CHECK(b.to_vector<uint8_t>()[0] == root);
      });
    }
  }
  run_ranks(2, [](Communicator& c) {
    Tensor t = Tensor::zeros({1});
    CHECK(contains(error_of([&] { c.broadcast(t, 2); }), "root 2 out of range"));
  });
}

TEST_CASE("thread all_gather and all_gather_v concatenate in rank order") {
  for (int n : {1, 2, 3}) {
    CAPTURE(n);
    run_ranks(n, [n](Communicator& c) {
      const int r = c.rank();
      Tensor t = Tensor::from_vector<float>({10.0f * r, 10.0f * r + 1, 10.0f * r + 2, 10.0f * r + 3}, {2, 2});
      Tensor all = c.all_gather(t);
      REQUIRE(all.shape() == Shape{2 * n, 2});
      std::vector<float> v = all.to_vector<float>();
      for (int q = 0; q < n; ++q)
        for (int k = 0; k < 4; ++k) CHECK(v[q * 4 + k] == 10.0f * q + k);
      // A 0-dim tensor gathers into [n].
      Tensor s = c.all_gather(Tensor::scalar(static_cast<float>(r)));
      REQUIRE(s.shape() == Shape{n});
      for (int q = 0; q < n; ++q) CHECK(s.to_vector<float>()[q] == static_cast<float>(q));

      // Rank r gives r + 1 rows of width 3 (rank 1 of 3 gives none when we skip it).
      int64_t rows = (n == 3 && r == 1) ? 0 : r + 1;
      std::vector<int64_t> ids;
      for (int64_t k = 0; k < rows * 3; ++k) ids.push_back(100 * r + k);
      Gathered g = c.all_gather_v(Tensor::from_vector<int64_t>(ids, {rows, 3}));
      REQUIRE(static_cast<int>(g.counts.size()) == n);
      int64_t total = 0;
      for (int q = 0; q < n; ++q) {
        int64_t expect = (n == 3 && q == 1) ? 0 : q + 1;
        CHECK(g.counts[q] == expect);
        CHECK(g.offset(q) == total);
        total += expect;
      }
      REQUIRE(g.data.shape() == Shape{total, 3});
      std::vector<int64_t> gv = g.data.to_vector<int64_t>();
      for (int q = 0; q < n; ++q)
        for (int64_t k = 0; k < g.counts[q] * 3; ++k) CHECK(gv[g.offset(q) * 3 + k] == 100 * q + k);
      // With the counts known, no exchange of counts; the result is the same.
      Gathered h = c.all_gather_v(Tensor::from_vector<int64_t>(ids, {rows, 3}), g.counts);
      CHECK(h.data.to_vector<int64_t>() == gv);
    });
  }
}

TEST_CASE("thread barrier: no rank leaves before every rank arrived") {
  for (int n : {1, 2, 3}) {
    std::atomic<int> arrived{0};
    std::atomic<bool> early{false};
    run_ranks(n, [&](Communicator& c) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5 * c.rank()));
      ++arrived;
      c.barrier();
      if (arrived.load() != n) early = true;
    });
    CHECK(!early.load());
  }
}

TEST_CASE("thread collectives: ranks that disagree fail on every rank with what each called") {
  std::mutex m;
  std::vector<std::string> errors(2);
  CHECK_THROWS(run_ranks(2, [&](Communicator& c) {
    Tensor t = Tensor::zeros({c.rank() == 0 ? 4 : 5});
    std::string e = error_of([&] { c.all_reduce(t); });
    {
      std::lock_guard lock(m);
      errors[c.rank()] = e;
    }
    if (!e.empty()) throw std::runtime_error(e);
  }));
  for (const std::string& e : errors) {
    CHECK(contains(e, "all_reduce #1"));
    CHECK(contains(e, "the ranks disagree"));
    CHECK(contains(e, "rank 0 called all_reduce #1 of f32[4]"));
    CHECK(contains(e, "rank 1 called all_reduce #1 of f32[5]"));
  }
  // Different collectives at the same point.
  std::string e = error_of([] {
    run_ranks(2, [](Communicator& c) {
      Tensor t = Tensor::zeros({2});
      if (c.rank() == 0) c.barrier();
      else c.broadcast(t, 0);
    });
  });
  CHECK(contains(e, "rank 0 called barrier #1"));
  CHECK(contains(e, "rank 1 called broadcast #1 of f32[2] from root 0"));
  // all_gather needs equal shapes; all_gather_v equal trailing dims.
  e = error_of([] {
    run_ranks(2, [](Communicator& c) { c.all_gather(Tensor::zeros({c.rank() + 1})); });
  });
  CHECK(contains(e, "all_gather_v takes different first dims"));
  e = error_of([] {
    run_ranks(2, [](Communicator& c) { c.all_gather_v(Tensor::zeros({2, c.rank() + 1})); });
  });
  CHECK(contains(e, "only dim 0 may differ"));
  // Wrong counts are caught too.
  e = error_of([] {
    run_ranks(2, [](Communicator& c) { c.all_gather_v(Tensor::zeros({c.rank() + 1}), {1, 1}); });
  });
  CHECK(contains(e, "counts[1] = 1"));
}

TEST_CASE("thread collectives: a rank that never arrives fails the others after the timeout, naming it") {
  auto start = std::chrono::steady_clock::now();
  std::string e = error_of([] {
    run_ranks(
        3,
        [](Communicator& c) {
          Tensor t = Tensor::ones({3});
          c.all_reduce(t);  // #1: everyone
          if (c.rank() == 2) {
            std::this_thread::sleep_for(std::chrono::milliseconds(600));  // stuck, then skips #2
            return;
          }
          c.all_reduce(t);
        },
        {.timeout_s = 0.2});
  });
  double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  CHECK(took < 5.0);
  CHECK(contains(e, "all_reduce #2"));
  CHECK(contains(e, "timed out after 0.2 s waiting for rank 2"));
  CHECK(contains(e, "last seen in all_reduce #1"));
  CHECK(contains(e, "timeout_s"));
  // A stopped group refuses further runs.
  ThreadGroup g(2, {.timeout_s = 0.1});
  CHECK_THROWS(run_ranks(g, [](Communicator& c) {
    if (c.rank() == 0) c.barrier();
    else std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }));
  CHECK(g.aborted());
  CHECK(contains(error_of([&] { run_ranks(g, [](Communicator&) {}); }), "make a new ThreadGroup"));
}

TEST_CASE("thread collectives: a rank that returned, or threw, does not leave the others waiting") {
  auto start = std::chrono::steady_clock::now();
  // Returned without calling the barrier: the waiting rank fails at once, not after 60 s.
  std::string e = error_of([] {
    run_ranks(
        2, [](Communicator& c) {
          if (c.rank() == 0) c.barrier();
        },
        {.timeout_s = 60});
  });
  CHECK(contains(e, "waits for rank 1, which returned from its function without calling it"));
  // A rank that throws: its error is the one reported, prefixed by its rank; the others are released.
  e = error_of([] {
    run_ranks(
        3, [](Communicator& c) {
          if (c.rank() == 1) CUREC_FAIL("model mismatch on this rank");
          Tensor t = Tensor::ones({2});
          c.all_reduce(t);
        },
        {.timeout_s = 60});
  });
  CHECK(contains(e, "[rank 1] model mismatch on this rank"));
  CHECK(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() < 10.0);
  // A group that ran cleanly runs again, continuing its sequence numbers.
  ThreadGroup g(2);
  for (int run = 0; run < 2; ++run)
    run_ranks(g, [](Communicator& c) {
      Tensor t = Tensor::ones({2});
      c.all_reduce(t);
      CHECK(t.to_vector<float>() == std::vector<float>{2.0f, 2.0f});
    });
}

TEST_CASE("communicator checks: undefined tensors, CUDA tensors on a CPU backend, bad dtypes") {
  run_ranks(1, [](Communicator& c) {
    CHECK(c.rank() == 0);
    CHECK(c.who() == "rank 0 of 1 (threads)");
    Tensor undefined;
    CHECK(contains(error_of([&] { c.all_reduce(undefined); }), "all_reduce on rank 0 of 1 (threads): the tensor is undefined"));
    Tensor u8 = Tensor::zeros({2}, DType::u8);
    CHECK(contains(error_of([&] { c.all_reduce(u8); }), "all_reduce takes f32, i32 or i64"));
    c.broadcast(u8, 0);  // any dtype is fine for a broadcast
    CHECK(contains(error_of([&] { c.all_gather_v(Tensor::scalar(1.0f)); }), "has no dim 0"));
  });
}

