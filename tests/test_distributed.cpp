// The communicator and the data-parallel gradient exchange (train/distributed), on the CPU with
// in-process ranks over threads; the NCCL backend's cases (world size 1, first GPU) are in the
// cuda suite at the end.
#include <atomic>
#include <chrono>
#include <cmath>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tests/distributed/data_parallel_check.h"
#include "train/distributed/communicator.h"
#include "train/distributed/grad_sync.h"
#include "train/distributed/launch.h"
#include "train/distributed/local_ranks.h"
#include "train/distributed/mpi_communicator.h"
#include "train/distributed/nccl_communicator.h"
#include "tests/testing.h"

using namespace curec;
using namespace curec::dist;
using curec::testing::error_of;

namespace {

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// n CPU ranks of a fresh LocalRanks.
void run_ranks(int n, const std::function<void(Communicator&)>& fn, double timeout_s = default_timeout_s()) {
  LocalRanks(n, Device::cpu(), timeout_s).run(fn);
}

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

TEST_CASE("thread all_reduce sums in rank order on every rank, for 1, 2 and 3 ranks") {
  for (int n : {1, 2, 3}) {
    CAPTURE(n);
    for (int64_t count : {int64_t{0}, int64_t{1}, int64_t{2}, int64_t{7}, int64_t{1000}}) {
      CAPTURE(count);
      std::vector<float> expected = rank_order_sum(n, count);
      std::mutex m;
      std::vector<std::vector<float>> got(n);
      run_ranks(n, [&](Communicator& c) {
        CHECK(c.world_size() == n);
        Tensor t = Tensor::from_vector<float>(rank_values(c.rank(), count), {count});
        c.all_reduce(t);
        std::lock_guard lock(m);
        got[c.rank()] = t.to_vector<float>();
      });
      for (int r = 0; r < n; ++r) {
        REQUIRE(got[r].size() == expected.size());
        for (int64_t i = 0; i < count; ++i) CHECK(got[r][i] == expected[i]);  // bit for bit, one order
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

TEST_CASE("thread collectives back to back: no rank reads a call its owner has already replaced") {
  // A barrier has one sync point: a rank leaving it may post its next call while another still
  // checks the barrier's posts (found by bench_allreduce: warm-up, barrier, timed all-reduces).
  run_ranks(3, [](Communicator& c) {
    for (int i = 0; i < 2000; ++i) {
      c.barrier();
      Tensor t = Tensor::full({1 + (i % 3)}, 1.0f);
      c.all_reduce(t);
      REQUIRE(t.to_vector<float>()[0] == 3.0f);
      if (i % 7 == c.rank()) std::this_thread::yield();
    }
  });
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

TEST_CASE("all_gather_host: every rank's host values in rank order, without a device") {
  for (int n : {1, 2, 3})
    run_ranks(n, [n](Communicator& c) {
      std::vector<int64_t> expected;
      for (int r = 0; r < n; ++r) expected.insert(expected.end(), {10 * r, 10 * r + 1});
      CHECK(c.all_gather_host({10 * c.rank(), 10 * c.rank() + 1}) == expected);
      CHECK(c.all_gather_host({}).empty());
      CHECK_FALSE(c.host_gather_waits());
    });
}

TEST_CASE("thread all_gather_v concatenates in rank order") {
  for (int n : {1, 2, 3}) {
    CAPTURE(n);
    run_ranks(n, [n](Communicator& c) {
      const int r = c.rank();
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
  // all_gather_v needs equal trailing dims.
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
        0.2);
  });
  double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  CHECK(took < 5.0);
  CHECK(contains(e, "all_reduce #2"));
  CHECK(contains(e, "timed out after 0.2 s waiting for rank 2"));
  CHECK(contains(e, "last seen in all_reduce #1"));
  CHECK(contains(e, "timeout_s"));
  // A stopped group refuses further runs.
  LocalRanks g(2, Device::cpu(), 0.1);
  CHECK_THROWS(g.run([](Communicator& c) {
    if (c.rank() == 0) c.barrier();
    else std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }));
  CHECK(contains(error_of([&] { g.run([](Communicator&) {}); }), "make new LocalRanks"));
}

TEST_CASE("thread collectives: a rank that returned, or threw, does not leave the others waiting") {
  auto start = std::chrono::steady_clock::now();
  // Returned without calling the barrier: the waiting rank fails at once, not after 60 s.
  std::string e = error_of([] {
    run_ranks(
        2, [](Communicator& c) {
          if (c.rank() == 0) c.barrier();
        },
        60);
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
        60);
  });
  CHECK(contains(e, "[rank 1] model mismatch on this rank"));
  CHECK(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() < 10.0);
  // A group that ran cleanly runs again, continuing its sequence numbers.
  LocalRanks g(2);
  for (int run = 0; run < 2; ++run)
    g.run([](Communicator& c) {
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

// ------------------------------------------------------------------------------ GradientSync

namespace {

using namespace curec::dist::check;

// N in-process ranks against one rank on the whole batches (tests/distributed/data_parallel_check.h).
RankResult check_ranks(bool sparse, const std::vector<int64_t>& sizes, int steps, GradSyncOptions options) {
  Plan plan{sparse, sizes, steps};
  Reference ref = reference(plan);
  const int n = static_cast<int>(sizes.size());
  std::vector<RankResult> results(n);
  run_ranks(n, [&](Communicator& c) { results[c.rank()] = run_rank(c, plan, ref, options); });
  for (int r = 1; r < n; ++r) CHECK(results[r].params == results[0].params);  // the same steps, bit for bit
  return results[0];
}
SyncStats check_data_parallel(bool sparse, const std::vector<int64_t>& sizes, int steps, GradSyncOptions options) {
  return check_ranks(sparse, sizes, steps, options).stats;
}

}  // namespace

TEST_CASE("GradientSync: N ranks on uneven shards take the step of one rank on the whole batch (dense gradients)") {
  for (const auto& sizes : std::vector<std::vector<int64_t>>{{7}, {4, 3}, {3, 2, 2}, {5, 2, 0}, {1, 6}}) {
    CAPTURE(sizes.size());
    CAPTURE(sizes[0]);
    check_data_parallel(false, sizes, 3, {});
  }
}

TEST_CASE("GradientSync: row-sparse embedding gradients, gathered or densified, give the one-rank step") {
  for (SparseExchange mode : {SparseExchange::gather, SparseExchange::dense}) {
    for (const auto& sizes : std::vector<std::vector<int64_t>>{{4, 3}, {3, 2, 2}, {5, 2, 0}}) {
      CAPTURE(static_cast<int>(mode));
      CAPTURE(sizes.size());
      SyncStats st = check_data_parallel(true, sizes, 3, {.sparse = mode});
      if (mode == SparseExchange::gather) {
        // Every rank's ids and rows: 7 rows of 4 floats + ids, for each of the two tables.
        CHECK(st.allgather_bytes == 2 * 7 * (8 + 4 * 4));
        CHECK(st.meta_bytes == static_cast<int64_t>(sizes.size()) * 2 * 8);  // the row counts
      }
      if (mode == SparseExchange::dense)  // both tables, with a touch count per row, ride in the buckets
        CHECK(st.allreduce_bytes == 4 * (20 * 4 + 30 * 4 + 8 + 1 + 3) + 4 * (20 + 30) + 4 * 3);
    }
  }
}

TEST_CASE("GradientSync: buckets and bytes of one sync") {
  // Tiny buckets: every parameter alone in one; the counts add up. The last bucket carries a
  // flag per dense parameter; nothing else is exchanged (no kinds, no weights).
  SyncStats st = check_data_parallel(false, {3, 4}, 1, {.first_bucket_bytes = 4, .bucket_bytes = 4});
  const int64_t dense_bytes = 4 * (20 * 4 + 30 * 4 + 8 + 1 + 3);
  CHECK(st.buckets == 5);
  CHECK(st.allreduce_bytes == dense_bytes + 4 * 5);
  CHECK(st.allgather_bytes == 0);
  CHECK(st.meta_bytes == 0);
  CHECK(st.bytes() == dense_bytes + 4 * 5);
  // Default buckets: one.
  st = check_data_parallel(false, {3, 4}, 1, {});
  CHECK(st.buckets == 1);
  // Densified sparse tables carry a count per row; the 3 dense parameters a flag each.
  st = check_data_parallel(true, {3, 4}, 1, {.sparse = SparseExchange::dense});
  CHECK(st.allreduce_bytes == dense_bytes + 4 * (20 + 30) + 4 * 3);
}

TEST_CASE("GradientSync: buckets start during backward from the first step, with the same sums as after it") {
  for (bool sparse : {false, true}) {
    for (const auto& sizes : std::vector<std::vector<int64_t>>{{4, 3}, {3, 2, 2}, {5, 2, 0}}) {
      CAPTURE(sparse);
      CAPTURE(sizes.size());
      // One parameter a bucket: the head's and the extra term's gradients complete first and
      // are on the wire while backward still computes the embeddings'.
      const GradSyncOptions tiny{.first_bucket_bytes = 4, .bucket_bytes = 4};
      RankResult overlapped = check_ranks(sparse, sizes, 4, tiny);
      GradSyncOptions plain = tiny;
      plain.overlap = false;
      RankResult after = check_ranks(sparse, sizes, 4, plain);
      CHECK(overlapped.params == after.params);  // bit for bit
      CHECK(after.overlapped == 0);
      // Bucketed: the dense parameters (5, or the 3 beside gathered row-sparse embeddings). In
      // every step (the buckets are fixed at construction) every bucket is started from backward's
      // observer: the extra term's at once where this rank's shard does not use it, the others as
      // their gradients complete. Only the row-sparse gradients wait for sync(), with their row counts.
      const int bucketed = sparse ? 3 : 5;
      CHECK(overlapped.stats.buckets == bucketed);
      CHECK(overlapped.overlapped == 4 * bucketed);
      CHECK(overlapped.stats.meta_bytes == (sparse ? static_cast<int64_t>(sizes.size()) * 2 * 8 : 0));
    }
  }
}

TEST_CASE("GradientSync: the host waits only in a step where this rank lacks a dense gradient") {
  run_ranks(2, [](Communicator& c) {
    Tensor a = Tensor::zeros({2}).set_requires_grad();
    Tensor b = Tensor::zeros({3}).set_requires_grad();
    GradientSync sync({a, b}, c);
    std::vector<int> waits;
    for (int step = 0; step < 5; ++step) {
      a.set_grad(Tensor::full({2}, static_cast<float>(c.rank() + 1)));
      b.zero_grad();
      if (c.rank() == 0 || step == 0) b.set_grad(Tensor::full({3}, 1.0f));  // rank 1 gives none after step 0
      sync.sync(0.5);  // no begin(): sync() fills and starts every bucket itself
      CHECK(a.grad().to_vector<float>() == std::vector<float>(2, 1.5f));
      CHECK(b.grad().to_vector<float>() == std::vector<float>(3, step == 0 ? 1.0f : 0.5f));
      waits.push_back(sync.last_stats().host_waits);
    }
    // Rank 0 (every gradient its own) knows every flag is set and never waits; rank 1 reads the
    // flags (did another rank have b?) in each step it lacks b.
    CHECK(waits == (c.rank() == 0 ? std::vector<int>{0, 0, 0, 0, 0} : std::vector<int>{0, 1, 1, 1, 1}));
  });
}

TEST_CASE("GradientSync: a parameter without a gradient on some ranks takes part; on none, it stays without") {
  run_ranks(3, [](Communicator& c) {
    Tensor a = Tensor::zeros({2}).set_requires_grad();
    Tensor b = Tensor::zeros({3}).set_requires_grad();
    Tensor never = Tensor::zeros({4}).set_requires_grad();
    GradientSync sync({a, b, never}, c);
    if (c.rank() != 1) a.set_grad(Tensor::full({2}, static_cast<float>(c.rank() + 1)));
    if (c.rank() == 2) b.set_grad(Tensor::full({3}, 3.0f));
    sync.sync(1.0 / 3.0);
    const float third = 1.0f / 3.0f;
    CHECK(a.grad().to_vector<float>() == std::vector<float>(2, third * 1.0f + third * 3.0f));
    CHECK(b.grad().to_vector<float>() == std::vector<float>(3, third * 3.0f));
    CHECK(!never.grad().defined());
  });
  // A rank of weight 0 (an empty shard) counts for nothing, even with a gradient (NaN, say).
  run_ranks(2, [](Communicator& c) {
    Tensor a = Tensor::zeros({2}).set_requires_grad();
    GradientSync sync({a}, c);
    a.set_grad(Tensor::full({2}, c.rank() == 0 ? 2.0f : NAN));
    sync.sync(c.rank() == 0 ? 1.0 : 0.0);
    CHECK(a.grad().to_vector<float>() == std::vector<float>{2.0f, 2.0f});
  });
}

TEST_CASE("GradientSync: the lazy update after a densified exchange touches exactly the rows one rank would") {
  run_ranks(2, [](Communicator& c) {
    Tensor table = Tensor::zeros({5, 2}).set_requires_grad();
    GradientSync sync(std::vector<SyncedParameter>{{table, true}}, c, {.sparse = SparseExchange::dense});
    // Rank 0 touches rows 3 and 1 (1 twice, summing to zero: still touched), rank 1 row 3.
    if (c.rank() == 0)
      table.set_sparse_grad(Tensor::from_vector<int64_t>({3, 1, 1}),
                            Tensor::from_vector<float>({1, 2, 5, 5, -5, -5}, {3, 2}));
    else
      table.set_sparse_grad(Tensor::from_vector<int64_t>({3}), Tensor::from_vector<float>({1, 1}, {1, 2}));
    sync.sync(0.5);
    REQUIRE(table.has_sparse_grad());
    CHECK(table.sparse_grad_indices().to_vector<int64_t>() == std::vector<int64_t>{1, 3});
    CHECK(table.sparse_grad_rows().to_vector<float>() == std::vector<float>{0, 0, 1, 1.5f});
  });
}

TEST_CASE("GradientSync: ranks with different parameter lists fail on every rank, naming the first difference") {
  std::string e = error_of([] {
    run_ranks(2, [](Communicator& c) {
      Tiny m(false, 1, c.rank() == 0 ? 20 : 21);  // rank 1 counted one more user
      GradientSync(m, c).broadcast_parameters();
    });
  });
  CHECK(contains(e, "rank 1's parameters differ from rank 0's (5 and 5 of them): parameter 0 is 'users.weight' f32[20, 4] "
                    "on rank 0 but 'users.weight' f32[21, 4] on rank 1"));
  CHECK(contains(e, "every rank must build the same model"));
  e = error_of([] {
    run_ranks(3, [](Communicator& c) {
      Tiny m(false, 1);
      std::vector<SyncedParameter> params;
      for (const auto& [name, t] : m.named_parameters()) params.emplace_back(t, false, name);
      if (c.rank() == 2) params.pop_back();
      GradientSync(params, c).check_parameters();
    });
  });
  CHECK(contains(e, "rank 2's parameters differ from rank 0's (4 and 5 of them): parameter 4 is 'extra.weight' f32[1, 3] "
                    "on rank 0 but none on rank 2"));
  // Unnamed lists are compared by position.
  e = error_of([] {
    run_ranks(2, [](Communicator& c) {
      Tensor p = Tensor::zeros({c.rank() + 1}).set_requires_grad();
      GradientSync({p}, c).check_parameters();
    });
  });
  CHECK(contains(e, "parameter 0 is '#0' f32[1] on rank 0 but '#0' f32[2] on rank 1"));
}

TEST_CASE("GradientSync: broadcast_parameters gives every rank rank 0's values") {
  std::vector<std::vector<float>> got(3);
  std::vector<float> rank0 = Tiny(false, 500).users.weight.to_vector<float>();
  run_ranks(3, [&](Communicator& c) {
    Tiny m(false, 500 + c.rank());
    GradientSync(m, c).broadcast_parameters();
    got[c.rank()] = m.users.weight.to_vector<float>();
    CHECK(m.users.weight.requires_grad());
  });
  for (const auto& g : got) CHECK(g == rank0);
}

TEST_CASE("GradientSync: bad weights and arguments are errors") {
  CHECK(contains(error_of([] { GradientSync::shard_weight(5, 4); }), "0 <= local examples <= global examples"));
  CHECK(GradientSync::shard_weight(3, 12) == 0.25);
  run_ranks(1, [](Communicator& c) {
    Tensor p = Tensor::zeros({2}).set_requires_grad();
    GradientSync sync({p}, c);
    CHECK(contains(error_of([&] { sync.sync(0.5); }), "with one rank the shard is the whole global batch"));
    CHECK(contains(error_of([&] { sync.sync(NAN); }), "must be finite"));
    p.set_grad(Tensor::full({2}, 3.0f));
    sync.sync(1.0);  // one rank: nothing to exchange, the gradient as it was
    CHECK(p.grad().to_vector<float>() == std::vector<float>{3.0f, 3.0f});
    CHECK(sync.last_stats().bytes() == 0);
    CHECK(contains(error_of([&] { GradientSync({p, p}, c); }), "is the same tensor as parameter 0"));
  });
}

// ------------------------------------------------------------------------------ launch

namespace {
// An environment from a list of NAME=value strings.
EnvLookup env_of(std::vector<std::pair<std::string, std::string>> vars) {
  auto shared = std::make_shared<std::vector<std::pair<std::string, std::string>>>(std::move(vars));
  return [shared](const char* name) -> const char* {
    for (const auto& [k, v] : *shared)
      if (k == name) return v.c_str();
    return nullptr;
  };
}
}  // namespace

TEST_CASE("read_launch: mpirun's and torchrun's variables, or neither") {
  LaunchInfo none = read_launch(env_of({}));
  CHECK(none.how == Launcher::none);
  CHECK(none.rank == 0);
  CHECK(none.world_size == 1);
  CHECK(!none.multi_process());
  LaunchInfo mpi = read_launch(env_of({{"OMPI_COMM_WORLD_RANK", "1"}, {"OMPI_COMM_WORLD_SIZE", "4"},
                                       {"OMPI_COMM_WORLD_LOCAL_RANK", "1"}}));
  CHECK(mpi.how == Launcher::mpirun);
  CHECK(mpi.rank == 1);
  CHECK(mpi.world_size == 4);
  CHECK(mpi.local_rank == 1);
  CHECK(mpi.str() == "rank 1 of 4 (local rank 1), launched by mpirun");
  LaunchInfo torch = read_launch(env_of({{"RANK", "3"}, {"WORLD_SIZE", "4"}, {"LOCAL_RANK", "1"},
                                         {"MASTER_ADDR", "node0"}, {"MASTER_PORT", "29500"},
                                         {"TORCHELASTIC_USE_AGENT_STORE", "True"}}));
  CHECK(torch.how == Launcher::torchrun);
  CHECK(torch.rank == 3);
  CHECK(torch.local_rank == 1);
  CHECK(torch.master_addr == "node0");
  CHECK(torch.master_port == 29500);
  CHECK(torch.agent_store);
  // Both, agreeing: mpirun's.
  LaunchInfo both = read_launch(env_of({{"OMPI_COMM_WORLD_RANK", "0"}, {"OMPI_COMM_WORLD_SIZE", "2"},
                                        {"RANK", "0"}, {"WORLD_SIZE", "2"}, {"LOCAL_RANK", "0"}}));
  CHECK(both.how == Launcher::mpirun);
  // torchrun of one process needs no LOCAL_RANK.
  CHECK(read_launch(env_of({{"RANK", "0"}, {"WORLD_SIZE", "1"}})).local_rank == 0);
}

TEST_CASE("read_launch: invalid combinations are clear errors") {
  auto err = [](std::vector<std::pair<std::string, std::string>> vars) {
    return error_of([&] { read_launch(env_of(vars)); });
  };
  CHECK(contains(err({{"RANK", "0"}}), "RANK=0 is set but WORLD_SIZE is not"));
  CHECK(contains(err({{"OMPI_COMM_WORLD_SIZE", "2"}}), "OMPI_COMM_WORLD_SIZE=2 is set but OMPI_COMM_WORLD_RANK is not"));
  CHECK(contains(err({{"RANK", "2"}, {"WORLD_SIZE", "2"}, {"LOCAL_RANK", "0"}}), "RANK=2 but WORLD_SIZE=2: ranks are 0..1"));
  CHECK(contains(err({{"RANK", "x"}, {"WORLD_SIZE", "2"}, {"LOCAL_RANK", "0"}}), "RANK=x is not a rank"));
  CHECK(contains(err({{"RANK", "0"}, {"WORLD_SIZE", "0"}, {"LOCAL_RANK", "0"}}), "WORLD_SIZE=0 is not a world size"));
  CHECK(contains(err({{"RANK", "1"}, {"WORLD_SIZE", "2"}}), "LOCAL_RANK is not"));
  CHECK(contains(err({{"RANK", "1"}, {"WORLD_SIZE", "2"}, {"LOCAL_RANK", "2"}}), "LOCAL_RANK=2 but WORLD_SIZE=2"));
  CHECK(contains(err({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"LOCAL_RANK", "0"}, {"MASTER_ADDR", "h"}}),
                 "MASTER_ADDR=h is set but MASTER_PORT is not"));
  CHECK(contains(err({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"LOCAL_RANK", "0"}, {"MASTER_ADDR", "h"},
                      {"MASTER_PORT", "70000"}}),
                 "MASTER_PORT=70000 is not a TCP port"));
  CHECK(contains(err({{"OMPI_COMM_WORLD_RANK", "0"}, {"OMPI_COMM_WORLD_SIZE", "2"}, {"RANK", "1"}, {"WORLD_SIZE", "2"},
                      {"LOCAL_RANK", "1"}}),
                 "mpirun says rank 0 of 2 (OMPI_COMM_WORLD_RANK/SIZE) but RANK/WORLD_SIZE say rank 1 of 2"));
}

TEST_CASE("make_launched_communicator: one process on the CPU gets a communicator of one rank") {
  auto c = make_launched_communicator(LaunchInfo{}, Device::cpu());
  CHECK(c->world_size() == 1);
  Tensor t = Tensor::full({2}, 3.0f);
  c->all_reduce(t);
  CHECK(t.to_vector<float>() == std::vector<float>{3.0f, 3.0f});
  CHECK(c->all_gather_v(Tensor::ones({2})).counts == std::vector<int64_t>{2});
  c->barrier();
  if (!mpi_built())
    CHECK(contains(error_of([] { make_mpi_communicator(); }), "multi-process training on the CPU needs MPI"));
  if (!nccl_built()) CHECK(contains(error_of([] { nccl_unique_id(); }), "built without CUDA"));
}

TEST_CASE("GradientSync with one rank: the whole exchange (exchange_alone) changes nothing") {
  for (bool sparse : {false, true})
    for (SparseExchange mode : {SparseExchange::gather, SparseExchange::dense}) {
      SyncStats st = check_data_parallel(sparse, {7}, 2, {.sparse = mode, .exchange_alone = true});
      CHECK(st.buckets >= 1);
    }
}

// ------------------------------------------------------------------------------ NCCL, on the first GPU

TEST_SUITE("cuda") {
  TEST_CASE("nccl: one GPU, world size 1: every collective, in order with the compute stream") {
    auto comms = nccl_init_all({0}, {.timeout_s = 60});
    REQUIRE(comms.size() == 1);
    Communicator& c = *comms[0];
    CHECK(c.backend() == "nccl");
    CHECK(c.device() == Device::cuda(0));
    CHECK(c.who() == "rank 0 of 1 (nccl)");
    // Host values go over the ranks' thread group, not the GPU.
    CHECK_FALSE(c.host_gather_waits());
    CHECK(c.all_gather_host({4, 5}) == std::vector<int64_t>{4, 5});
    Device gpu = Device::cuda(0);
    // Written by a kernel on the compute stream just before: the all-reduce must see it.
    Tensor t = Tensor::zeros({1 << 20}, DType::f32, gpu);
    t.fill_(2.5f);
    c.all_reduce(t);
    std::vector<float> v = t.to_vector<float>();
    CHECK(v.front() == 2.5f);
    CHECK(v.back() == 2.5f);
    Tensor i = Tensor::from_vector<int64_t>({7, -3}, {2}, gpu);
    c.all_reduce(i);
    CHECK(i.to_vector<int64_t>() == std::vector<int64_t>{7, -3});
    Tensor b = Tensor::from_vector<float>({1, 2, 3}, {3}, gpu);
    c.broadcast(b, 0);
    CHECK(b.to_vector<float>() == std::vector<float>{1, 2, 3});
    Gathered g = c.all_gather_v(Tensor::from_vector<int32_t>({4, 5}, {1, 2}, gpu), {1});
    CHECK(g.data.shape() == Shape{1, 2});
    CHECK(g.data.to_vector<int32_t>() == std::vector<int32_t>{4, 5});
    Gathered gv = c.all_gather_v(Tensor::from_vector<int64_t>({9, 8, 7}, {3}, gpu));
    CHECK(gv.counts == std::vector<int64_t>{3});
    CHECK(gv.data.to_vector<int64_t>() == std::vector<int64_t>{9, 8, 7});
    Gathered none = c.all_gather_v(Tensor::empty({0, 4}, DType::f32, gpu), {0});
    CHECK(none.data.shape() == Shape{0, 4});
    // Started collectives run beside the compute stream; complete_started orders it after them.
    Tensor s1 = Tensor::full({1 << 16}, 3.0f, gpu), s2 = Tensor::full({5}, 4.0f, gpu);
    c.all_reduce_start(s1);
    c.all_reduce_start(s2);
    c.complete_started();
    CHECK(s1.to_vector<float>() == std::vector<float>(1 << 16, 3.0f));
    CHECK(s2.to_vector<float>() == std::vector<float>(5, 4.0f));
    c.barrier();
    c.synchronize();
    // A CPU tensor is refused, saying where it should be.
    Tensor cpu = Tensor::ones({2});
    CHECK(contains(error_of([&] { c.all_reduce(cpu); }), "is on cpu but this communicator works on cuda:0"));
  }

  TEST_CASE("nccl: bad device lists are clear errors") {
    CHECK(contains(error_of([] { nccl_init_all({0, 0}); }), "cuda:0 appears twice; NCCL takes one rank per GPU"));
    CHECK(contains(error_of([] { nccl_init_all({cuda_device_count()}); }), "does not exist"));
    CHECK(contains(error_of([] { nccl_init_all({}); }), "no devices given"));
  }

  TEST_CASE("nccl: abort() from another thread (as run_ranks does) while this rank queues and waits is an error") {
    // run_ranks aborts the other ranks' communicators from the failing rank's thread, while their
    // own threads are inside NCCL calls or waits: each must end in a curec::Error, not a crash.
    auto comms = nccl_init_all({0}, {.timeout_s = 60});
    Communicator& c = *comms[0];
    Tensor t = Tensor::full({1 << 16}, 1.0f, Device::cuda(0));
    std::atomic<bool> queued{false};
    std::thread other([&] {
      while (!queued.load()) std::this_thread::yield();
      c.abort("the test aborts it");
    });
    const std::string err = error_of([&] {
      for (int i = 0;; ++i) {
        c.all_reduce(t);
        if (i == 3) queued = true;
        if (i % 4 == 0) c.synchronize();
      }
    });
    other.join();
    CHECK(contains(err, "aborted earlier (the test aborts it)"));
    CHECK(contains(error_of([&] { c.barrier(); }), "aborted earlier"));
  }

  TEST_CASE("nccl: one process per GPU from a unique id, and from NCCL_COMM_ID (torchrun's bootstrap)") {
    {
      auto c = nccl_init_rank(nccl_unique_id(), 0, 1, 0, {.timeout_s = 60});
      CHECK(c->host_gather_waits());  // no host channel given: through the GPU, waiting
      CHECK(c->all_gather_host({7}) == std::vector<int64_t>{7});
      Tensor t = Tensor::full({3}, 1.5f, Device::cuda(0));
      c->all_reduce(t);
      CHECK(t.to_vector<float>() == std::vector<float>(3, 1.5f));
    }
    // MASTER_ADDR:MASTER_PORT as a torchrun launch of one process would give (world size 1 here).
    setenv("NCCL_COMM_ID", "127.0.0.1:29533", 1);
    {
      auto c = nccl_init_rank(nccl_unique_id(), 0, 1, 0, {.timeout_s = 60});
      Tensor t = Tensor::full({3}, 2.0f, Device::cuda(0));
      c->all_reduce(t);
      c->barrier();
      CHECK(t.to_vector<float>() == std::vector<float>(3, 2.0f));
    }
    unsetenv("NCCL_COMM_ID");
    auto c = make_launched_communicator(LaunchInfo{}, Device::cuda(0));
    CHECK(c->backend() == "nccl");
  }

  TEST_CASE("nccl: GradientSync's whole exchange on one GPU gives the CPU's one-rank steps") {
    auto comms = nccl_init_all({0}, {.timeout_s = 60});
    for (bool sparse : {false, true})
      for (SparseExchange mode : {SparseExchange::gather, SparseExchange::dense}) {
        if (!sparse && mode == SparseExchange::dense) continue;
        CAPTURE(sparse);
        CAPTURE(static_cast<int>(mode));
        Plan plan{sparse, {7}, 3, Device::cuda(0), 1e-5f, 1e-4f};
        Reference ref = reference(plan);
        RankResult r = run_rank(*comms[0], plan, ref,
                                {.first_bucket_bytes = 256, .sparse = mode, .exchange_alone = true});
        if (sparse && mode == SparseExchange::gather) {
          // Only head and extra are all-reduced (12 floats, under the first bucket's 256 bytes);
          // the tables are gathered. The CPU's one rank gives the same.
          CHECK(r.stats.buckets == 1);
          CHECK(r.stats.meta_bytes == 2 * 8);  // a row count per table
        } else {
          CHECK(r.stats.buckets >= 2);
        }
        CHECK(r.overlapped >= 2);  // steps 2 and 3 start buckets from backward's observer
      }
  }
}
