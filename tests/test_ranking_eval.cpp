#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "core/parallel.h"
#include "tests/testing.h"
#include "train/ranking_eval.h"

using namespace curec;
using train::RankingAccumulator;
using train::RankingMetrics;

namespace {

// Users' scores, training rows and test items, built on the host.
struct Case {
  int64_t users = 0, items = 0;
  std::vector<float> scores;  // [users, items]
  std::vector<int64_t> row_ptr{0};
  std::vector<int32_t> cols;
  std::vector<int32_t> test;

  void add_user(const std::vector<float>& s, std::vector<int32_t> train, int32_t test_item) {
    REQUIRE(static_cast<int64_t>(s.size()) == items);
    scores.insert(scores.end(), s.begin(), s.end());
    std::sort(train.begin(), train.end());
    cols.insert(cols.end(), train.begin(), train.end());
    row_ptr.push_back(static_cast<int64_t>(cols.size()));
    test.push_back(test_item);
    ++users;
  }
};

RankingMetrics run(const Case& c, int k, Device device = Device::cpu(), int64_t limit = -1, int64_t chunk = 1 << 30) {
  Tensor scores = Tensor::from_vector(c.scores, {c.users, c.items}, device);
  Tensor row_ptr = Tensor::from_vector(c.row_ptr, {c.users + 1}, device);
  Tensor cols = Tensor::from_vector(c.cols, {static_cast<int64_t>(c.cols.size())}, device);
  Tensor test = Tensor::from_vector(c.test, {c.users}, device);
  RankingAccumulator acc(k, device, limit);
  for (int64_t first = 0; first < c.users; first += chunk) {
    int64_t n = std::min(chunk, c.users - first);
    acc.add_chunk(scores.rows(first, n), first, row_ptr, cols, test);
  }
  return acc.finish();
}

// Scores 10 + j for item j: item 9 is scored highest.
std::vector<float> ascending(int64_t items) {
  std::vector<float> s(items);
  for (int64_t j = 0; j < items; ++j) s[j] = 10.0f + static_cast<float>(j);
  return s;
}

// Random scores on a coarse grid (so that ties occur), random training sets, a test item
// outside the training set for most users and none for every 7th.
Case random_case(int64_t users, int64_t items, uint64_t seed) {
  std::mt19937_64 rng(seed);
  Case c;
  c.items = items;
  for (int64_t u = 0; u < users; ++u) {
    std::vector<float> s(items);
    for (float& v : s) v = static_cast<float>(rng() % 2000) * 0.01f - 10.0f;
    int64_t deg = static_cast<int64_t>(rng() % std::min<uint64_t>(300, items - 1));  // leaves a test item
    std::vector<int32_t> train;
    for (int64_t d = 0; d < deg; ++d) train.push_back(static_cast<int32_t>(rng() % items));
    std::sort(train.begin(), train.end());
    train.erase(std::unique(train.begin(), train.end()), train.end());
    int32_t t = -1;
    if (u % 7 != 3) {
      do t = static_cast<int32_t>(rng() % items);
      while (std::binary_search(train.begin(), train.end(), t));
    }
    c.add_user(s, train, t);
  }
  return c;
}

// An independent reference: sort each user's candidate list with the test item placed after
// every equal score, and read the metrics off the position.
RankingMetrics sorted_reference(const Case& c, int k, int64_t limit = -1) {
  RankingMetrics m;
  m.k = k;
  int64_t range = limit < 0 ? c.items : std::min(limit, c.items);
  for (int64_t u = 0; u < c.users; ++u) {
    int32_t t = c.test[u];
    if (t < 0) continue;
    ++m.users;
    if (t >= range) continue;
    const float* s = &c.scores[u * c.items];
    auto b = c.cols.begin() + c.row_ptr[u], e = c.cols.begin() + c.row_ptr[u + 1];
    std::vector<int64_t> list;
    for (int64_t j = 0; j < range; ++j)
      if (j == t || !std::binary_search(b, e, static_cast<int32_t>(j))) list.push_back(j);
    std::stable_sort(list.begin(), list.end(), [&](int64_t x, int64_t y) {
      if (s[x] != s[y]) return s[x] > s[y];
      return x != t && y == t;  // the test item goes last among equals
    });
    int64_t rank = std::find(list.begin(), list.end(), t) - list.begin();
    int64_t negatives = static_cast<int64_t>(list.size()) - 1, below = 0, ties = 0;
    for (int64_t j : list) {
      if (j == t) continue;
      below += s[j] < s[t];
      ties += s[j] == s[t];
    }
    m.hit_at_k += rank < k ? 1 : 0;
    m.ndcg_at_k += rank < k ? 1.0 / std::log2(rank + 2.0) : 0.0;
    m.auc += negatives == 0 ? 1.0 : (below + 0.5 * ties) / negatives;
  }
  m.hit_at_k /= m.users;
  m.ndcg_at_k /= m.users;
  m.auc /= m.users;
  return m;
}

void check_same(const RankingMetrics& a, const RankingMetrics& b, double tol) {
  CHECK(a.users == b.users);
  CHECK(a.k == b.k);
  CHECK(a.hit_at_k == doctest::Approx(b.hit_at_k).epsilon(tol));
  CHECK(a.auc == doctest::Approx(b.auc).epsilon(tol));
  CHECK(a.ndcg_at_k == doctest::Approx(b.ndcg_at_k).epsilon(tol));
}

}  // namespace

TEST_CASE("a perfect scorer gets hit 1, auc 1, ndcg 1") {
  Case c;
  c.items = 10;
  c.add_user(ascending(10), {}, 9);
  c.add_user(ascending(10), {2, 5}, 9);
  RankingMetrics m = run(c, 1);
  CHECK(m.users == 2);
  CHECK(m.k == 1);
  CHECK(m.hit_at_k == 1.0);
  CHECK(m.auc == 1.0);
  CHECK(m.ndcg_at_k == 1.0);
}

TEST_CASE("a worst scorer gets auc 0 and no hit") {
  Case c;
  c.items = 10;
  c.add_user(ascending(10), {4}, 0);
  RankingMetrics m = run(c, 5);
  CHECK(m.hit_at_k == 0.0);
  CHECK(m.auc == 0.0);
  CHECK(m.ndcg_at_k == 0.0);
}

TEST_CASE("a test item at rank 3 gives ndcg 1/log2(5), a miss at k=3 and a hit at k=4") {
  Case c;
  c.items = 10;
  c.add_user(ascending(10), {}, 6);  // items 7, 8, 9 above it; 9 candidates
  RankingMetrics m3 = run(c, 3), m4 = run(c, 4);
  CHECK(m3.hit_at_k == 0.0);
  CHECK(m3.ndcg_at_k == 0.0);
  CHECK(m4.hit_at_k == 1.0);
  CHECK(m4.ndcg_at_k == doctest::Approx(1.0 / std::log2(5.0)));
  CHECK(m4.auc == doctest::Approx(6.0 / 9.0));
}

TEST_CASE("training items are excluded even when scored highest") {
  Case c;
  c.items = 10;
  c.add_user(ascending(10), {7, 8, 9}, 6);
  RankingMetrics m = run(c, 1);
  CHECK(m.hit_at_k == 1.0);
  CHECK(m.auc == 1.0);
  CHECK(m.ndcg_at_k == 1.0);
  // A test item that is also a training item is not its own candidate.
  Case d;
  d.items = 4;
  d.add_user({1, 2, 3, 4}, {1}, 1);  // candidates 0 (below), 2, 3 (above)
  RankingMetrics md = run(d, 10);
  CHECK(md.auc == doctest::Approx(1.0 / 3.0));
}

TEST_CASE("ties rank pessimistically and count half in the auc") {
  Case c;
  c.items = 6;
  // Test item 0 scores 5; item 1 is above, items 2 and 3 tie, items 4 and 5 are below.
  c.add_user({5, 7, 5, 5, 1, 2}, {}, 0);
  RankingMetrics m3 = run(c, 3), m4 = run(c, 4);
  CHECK(m3.hit_at_k == 0.0);  // rank 1 + 2 ties = 3
  CHECK(m4.hit_at_k == 1.0);
  CHECK(m4.ndcg_at_k == doctest::Approx(1.0 / std::log2(5.0)));
  CHECK(m4.auc == doctest::Approx((5.0 - 1.0 - 0.5 * 2.0) / 5.0));
  // A constant scorer: every candidate ties.
  Case d;
  d.items = 5;
  d.add_user({1, 1, 1, 1, 1}, {}, 2);
  RankingMetrics md = run(d, 4), md5 = run(d, 5);
  CHECK(md.hit_at_k == 0.0);
  CHECK(md.auc == doctest::Approx(0.5));
  CHECK(md5.hit_at_k == 1.0);
}

TEST_CASE("a user with no candidates ranks first") {
  Case c;
  c.items = 3;
  c.add_user({0, 5, 9}, {1, 2}, 0);
  RankingMetrics m = run(c, 1);
  CHECK(m.hit_at_k == 1.0);
  CHECK(m.auc == 1.0);
  CHECK(m.ndcg_at_k == 1.0);
}

TEST_CASE("candidates_limit reproduces the book's candidates below the limit") {
  Case c;
  c.items = 10;
  c.add_user(ascending(10), {}, 3);  // all items: rank 6; below 5: only item 4 is above
  c.add_user(ascending(10), {}, 7);  // test item beyond the limit: a miss
  RankingMetrics all = run(c, 2), book = run(c, 2, Device::cpu(), 5);
  CHECK(all.users == 2);
  CHECK(all.hit_at_k == 0.0);  // ranks 6 and 2: both miss at k=2
  CHECK(all.auc == doctest::Approx((3.0 / 9.0 + 7.0 / 9.0) / 2.0));
  CHECK(book.users == 2);
  CHECK(book.hit_at_k == 0.5);                                   // user 0 hits, user 1 cannot
  CHECK(book.auc == doctest::Approx((3.0 / 4.0 + 0.0) / 2.0));   // user 0: 3 of 4 candidates below
  CHECK(book.ndcg_at_k == doctest::Approx((1.0 / std::log2(3.0)) / 2.0));
  // A limit beyond the catalogue ranks everything.
  check_same(run(c, 2, Device::cpu(), 1000), all, 1e-12);
  CHECK_THROWS_AS(RankingAccumulator(2, Device::cpu(), 0), Error);
}

TEST_CASE("users without a test item are skipped") {
  Case c;
  c.items = 10;
  c.add_user(ascending(10), {}, 9);
  c.add_user(ascending(10), {}, -1);
  c.add_user(ascending(10), {}, 0);
  RankingMetrics m = run(c, 1);
  CHECK(m.users == 2);
  CHECK(m.hit_at_k == 0.5);
  CHECK(m.auc == 0.5);
  Case none;
  none.items = 4;
  none.add_user({1, 2, 3, 4}, {}, -1);
  RankingMetrics mn = run(none, 1);
  CHECK(mn.users == 0);
  CHECK(mn.hit_at_k == 0.0);
}

TEST_CASE("random cases match a sort-based reference, with and without the book's limit") {
  Case c = random_case(97, 301, 11);
  for (int k : {1, 10, 50}) {
    check_same(run(c, k), sorted_reference(c, k), 1e-12);
    check_same(run(c, k, Device::cpu(), 97), sorted_reference(c, k, 97), 1e-12);
  }
}

TEST_CASE("chunking gives the same result as one chunk") {
  Case c = random_case(101, 257, 5);
  RankingMetrics one = run(c, 10);
  for (int64_t chunk : {1, 7, 32, 100}) check_same(run(c, 10, Device::cpu(), -1, chunk), one, 1e-12);
}

TEST_CASE("evaluate_ranking scores users chunk by chunk") {
  Case c = random_case(50, 40, 3);
  Tensor scores = Tensor::from_vector(c.scores, {c.users, c.items});
  Tensor row_ptr = Tensor::from_vector(c.row_ptr, {c.users + 1});
  Tensor cols = Tensor::from_vector(c.cols, {static_cast<int64_t>(c.cols.size())});
  Tensor test = Tensor::from_vector(c.test, {c.users});
  int64_t calls = 0;
  auto scorer = [&](const Tensor& users) {
    ++calls;
    std::vector<int32_t> ids = users.to_vector<int32_t>();
    for (size_t i = 1; i < ids.size(); ++i) REQUIRE(ids[i] == ids[0] + static_cast<int32_t>(i));
    return scores.rows(ids[0], static_cast<int64_t>(ids.size()));
  };
  RankingMetrics m = train::evaluate_ranking(scorer, c.users, c.items, row_ptr, cols, test, 5, 16);
  CHECK(calls == 4);
  check_same(m, sorted_reference(c, 5), 1e-12);
  auto wrong = [&](const Tensor& users) { return Tensor::zeros({users.size(0), c.items + 1}); };
  CHECK_THROWS_AS(train::evaluate_ranking(wrong, c.users, c.items, row_ptr, cols, test, 5), Error);
}

TEST_CASE("bad input is reported") {
  Case c;
  c.items = 4;
  c.add_user({1, 2, 3, 4}, {0}, 2);
  RankingAccumulator acc(1, Device::cpu());
  Tensor scores = Tensor::from_vector(c.scores, {1, 4});
  Tensor row_ptr = Tensor::from_vector(c.row_ptr, {2});
  Tensor cols = Tensor::from_vector(c.cols, {1});
  Tensor test = Tensor::from_vector(c.test, {1});
  // The chunk runs past the users; wrong dtype.
  CHECK_THROWS_AS(acc.add_chunk(scores, 1, row_ptr, cols, test), Error);
  CHECK_THROWS_AS(acc.add_chunk(scores, 0, row_ptr.view({2}), cols, Tensor::zeros({1})), Error);
  // Test item out of range.
  CHECK_THROWS_AS(acc.add_chunk(scores, 0, row_ptr, cols, Tensor::from_vector(std::vector<int32_t>{4})), Error);
  // Training item out of range.
  CHECK_THROWS_AS(acc.add_chunk(scores, 0, row_ptr, Tensor::from_vector(std::vector<int32_t>{9}), test), Error);
  // NaN scores and unsorted training rows fail at finish().
  Case nan = c;
  nan.scores[1] = std::nanf("");
  CHECK_THROWS_AS(run(nan, 1), Error);
  Case unsorted;
  unsorted.items = 4;
  unsorted.add_user({1, 2, 3, 4}, {}, 2);
  unsorted.cols = {1, 1};
  unsorted.row_ptr = {0, 2};
  CHECK_THROWS_AS(run(unsorted, 1), Error);
}

// One accumulator with two cut-offs, fed chunk by chunk.
RankingMetrics run_cutoffs(const Case& c, int hit_k, int ndcg_k, Device device = Device::cpu(), int64_t chunk = 1 << 30) {
  Tensor scores = Tensor::from_vector(c.scores, {c.users, c.items}, device);
  Tensor row_ptr = Tensor::from_vector(c.row_ptr, {c.users + 1}, device);
  Tensor cols = Tensor::from_vector(c.cols, {static_cast<int64_t>(c.cols.size())}, device);
  Tensor test = Tensor::from_vector(c.test, {c.users}, device);
  RankingAccumulator acc(hit_k, ndcg_k, device);
  for (int64_t first = 0; first < c.users; first += chunk)
    acc.add_chunk(scores.rows(first, std::min(chunk, c.users - first)), first, row_ptr, cols, test);
  return acc.finish();
}

TEST_CASE("two cut-offs from one count: Hit@50 and AUC as k = 50 gives them, NDCG@10 as k = 10, bit for bit") {
  Case c = random_case(211, 389, 17);
  RankingMetrics both = run_cutoffs(c, 50, 10), at50 = run(c, 50), at10 = run(c, 10);
  CHECK(both.k == 50);
  CHECK(both.ndcg_k == 10);
  CHECK(both.users == at50.users);
  CHECK(both.hit_at_k == at50.hit_at_k);
  CHECK(both.auc == at50.auc);
  CHECK(both.ndcg_at_k == at10.ndcg_at_k);
  CHECK(both.hit_at_k != at10.hit_at_k);  // the cut-offs really differ here
  CHECK(run(c, 10).ndcg_k == 10);
  CHECK_THROWS_AS(RankingAccumulator(50, 0, Device::cpu()), Error);
}

TEST_CASE("a test item that is also a training item is left out once") {
  Case c;
  c.items = 6;
  c.add_user(ascending(6), {2, 5}, 5);  // candidates 0, 1, 3, 4: all below the test item
  c.add_user(ascending(6), {3, 4}, 3);  // candidates 0, 1, 2, 5: item 5 above it
  RankingMetrics m = run(c, 1);
  CHECK(m.hit_at_k == 0.5);
  CHECK(m.auc == doctest::Approx((1.0 + 0.75) / 2.0));
  check_same(m, sorted_reference(c, 1), 1e-12);
}

TEST_CASE("the CPU count does not depend on the thread count") {
  const int saved = cpu_threads();
  Case c = random_case(300, 1001, 23);
  std::vector<RankingMetrics> runs;
  for (int threads : {1, 2, 3}) {
    set_cpu_threads(threads);
    runs.push_back(run_cutoffs(c, 50, 10, Device::cpu(), 128));
  }
  set_cpu_threads(saved);
  for (const RankingMetrics& r : runs) {
    CHECK(r.hit_at_k == runs[0].hit_at_k);
    CHECK(r.auc == runs[0].auc);
    CHECK(r.ndcg_at_k == runs[0].ndcg_at_k);
  }
  RankingMetrics at50 = sorted_reference(c, 50), at10 = sorted_reference(c, 10);
  CHECK(runs[0].hit_at_k == doctest::Approx(at50.hit_at_k).epsilon(1e-12));
  CHECK(runs[0].auc == doctest::Approx(at50.auc).epsilon(1e-12));
  CHECK(runs[0].ndcg_at_k == doctest::Approx(at10.ndcg_at_k).epsilon(1e-12));
}

TEST_SUITE("cuda") {
  TEST_CASE("CUDA matches the CPU on random ML-100K-sized cases") {
    Device gpu = Device::cuda(0);
    Case c = random_case(943, 1682, 42);
    for (int k : {1, 10, 50}) {
      RankingMetrics cpu = run(c, k), cuda = run(c, k, gpu);
      check_same(cuda, cpu, 1e-9);
      check_same(run(c, k, gpu, 943), run(c, k, Device::cpu(), 943), 1e-9);
    }
    check_same(run(c, 10, gpu, -1, 100), run(c, 10), 1e-9);
    RankingMetrics two = run_cutoffs(c, 50, 10, gpu, 300), two_cpu = run_cutoffs(c, 50, 10);
    CHECK(two.ndcg_k == 10);
    check_same(two, two_cpu, 1e-9);
    check_same(run(c, 10, gpu, -1, 1), run(c, 10), 1e-9);
    // Deterministic: the same chunks give the same bits.
    RankingMetrics a = run(c, 10, gpu, -1, 128), b = run(c, 10, gpu, -1, 128);
    CHECK(a.auc == b.auc);
    CHECK(a.ndcg_at_k == b.ndcg_at_k);
  }

  TEST_CASE("CUDA hand-built cases and errors") {
    Device gpu = Device::cuda(0);
    Case c;
    c.items = 10;
    c.add_user(ascending(10), {7, 8, 9}, 6);
    c.add_user(ascending(10), {}, 6);
    c.add_user(ascending(10), {}, -1);
    c.add_user({5, 7, 5, 5, 1, 2, 0, 0, 0, 0}, {}, 0);
    check_same(run(c, 4, gpu), run(c, 4), 1e-12);
    check_same(run(c, 4, gpu, 5), run(c, 4, Device::cpu(), 5), 1e-12);
    // A long row (more items than threads in a block) and a long training row.
    Case wide;
    wide.items = 5000;
    std::vector<float> s(5000);
    for (int64_t j = 0; j < 5000; ++j) s[j] = static_cast<float>((j * 7919) % 5000);
    std::vector<int32_t> train;
    for (int32_t j = 0; j < 5000; j += 3) train.push_back(j);
    wide.add_user(s, train, 4001);
    check_same(run(wide, 50, gpu), sorted_reference(wide, 50), 1e-12);

    Case nan = c;
    nan.scores[3] = std::nanf("");
    CHECK_THROWS_AS(run(nan, 1, gpu), Error);
    Case unsorted;
    unsorted.items = 4;
    unsorted.add_user({1, 2, 3, 4}, {}, 2);
    unsorted.cols = {3, 1};
    unsorted.row_ptr = {0, 2};
    CHECK_THROWS_AS(run(unsorted, 1, gpu), Error);
    Case bad = c;
    bad.test[1] = 10;
    CHECK_THROWS_AS(run(bad, 1, gpu), Error);
    check_same(run(c, 4, gpu), run(c, 4), 1e-12);  // the error flag was cleared
  }
}
