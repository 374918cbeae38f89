#include <set>

#include "core/philox.h"
#include "data/movielens.h"
#include "data/split.h"
#include "tests/testing.h"

using namespace curec;
using namespace curec::data;

namespace {
std::string ml100k_dir() {
  std::string p = testing::require_data("ml-100k/u.data");
  return p.empty() ? "" : p.substr(0, p.size() - std::string("/u.data").size());
}

// A small data set: 3 users, rows with chosen timestamps (user 1 has a tie at the latest time).
Interactions tiny() {
  Interactions d;
  d.num_users = 3;
  d.num_items = 4;
  d.users = std::make_shared<IdMap>(IdMap::from_raw({1, 2, 3}));
  d.items = std::make_shared<IdMap>(IdMap::from_raw({1, 2, 3, 4}));
  d.push_back(0, 0, 5, 30);
  d.push_back(1, 1, 4, 50);
  d.push_back(0, 1, 3, 10);
  d.push_back(1, 2, 2, 50);  // tie with row 1: the later row is the test row
  d.push_back(2, 3, 1, 7);
  d.push_back(0, 2, 1, 20);
  d.push_back(1, 3, 3, 40);
  return d;
}
}  // namespace

TEST_CASE("split_random: the book's rule, reproducible from the seed") {
  Interactions d = tiny();
  Split s = split_random(d, 0.5, 11);
  std::vector<int64_t> want_train;
  for (int64_t i = 0; i < 7; ++i)
    if (philox::uniform(11, 0, i) < 0.5f) want_train.push_back(i);
  CHECK(s.train.size() == want_train.size());
  CHECK(s.train.size() + s.test.size() == d.size());
  CHECK(s.train.user == d.subset(want_train).user);
  CHECK(s.train.items == d.items);
}

TEST_CASE("ML-100K: random split ratio and reproducibility") {
  std::string dir = ml100k_dir();
  if (dir.empty()) return;
  Interactions d = read_ml100k(dir);
  Split a = split_random(d, 0.1, 42), b = split_random(d, 0.1, 42), c = split_random(d, 0.1, 43);
  CHECK(a.train.size() + a.test.size() == 100000);
  // Binomial(100000, 0.1): sd ~ 95, so 5 sd = 475.
  CHECK(std::abs(static_cast<double>(a.test.size()) - 10000.0) < 475.0);
  CHECK(a.test.user == b.test.user);
  CHECK(a.test.item == b.test.item);
  CHECK(a.test.item != c.test.item);
  CHECK(a.train.num_users == 943);
  CHECK(a.test.num_items == 1682);
}

TEST_CASE("split_seq_aware: latest per user to test, ties to the later row, train ordered by time") {
  Split s = split_seq_aware(tiny());
  CHECK(s.test.user == std::vector<int32_t>{0, 1, 2});
  CHECK(s.test.item == std::vector<int32_t>{0, 2, 3});
  CHECK(s.train.user == std::vector<int32_t>{0, 0, 1, 1});
  CHECK(s.train.timestamp == std::vector<int64_t>{10, 20, 40, 50});
  CHECK(s.train.item == std::vector<int32_t>{1, 2, 3, 1});
}

TEST_CASE("ML-100K: seq-aware split has 943 test rows, each the user's latest") {
  std::string dir = ml100k_dir();
  if (dir.empty()) return;
  Interactions d = read_ml100k(dir);
  Split s = split_seq_aware(d);
  CHECK(s.test.size() == 943);
  CHECK(s.train.size() == 99057);
  std::vector<int64_t> latest(943, INT64_MIN);
  for (size_t r = 0; r < d.size(); ++r) latest[d.user[r]] = std::max(latest[d.user[r]], d.timestamp[r]);
  for (size_t k = 0; k < s.test.size(); ++k) {
    CHECK(s.test.user[k] == static_cast<int32_t>(k));
    CHECK(s.test.timestamp[k] == latest[k]);
  }
  bool ordered = true;
  for (size_t k = 1; k < s.train.size(); ++k) {
    if (s.train.user[k] < s.train.user[k - 1]) ordered = false;
    if (s.train.user[k] == s.train.user[k - 1] && s.train.timestamp[k] < s.train.timestamp[k - 1]) ordered = false;
    if (s.train.timestamp[k] > latest[s.train.user[k]]) ordered = false;
  }
  CHECK(ordered);
}

TEST_CASE("split_leave_one_out: one row per user, reproducible, partition of the data") {
  Interactions d = tiny();
  Split a = split_leave_one_out(d, 5), b = split_leave_one_out(d, 5);
  CHECK(a.test.user == std::vector<int32_t>{0, 1, 2});
  CHECK(a.test.item == b.test.item);
  CHECK(a.train.size() == 4);
  std::multiset<std::pair<int32_t, int32_t>> all, parts;
  for (size_t r = 0; r < d.size(); ++r) all.insert({d.user[r], d.item[r]});
  for (const Interactions* p : {&a.train, &a.test})
    for (size_t r = 0; r < p->size(); ++r) parts.insert({p->user[r], p->item[r]});
  CHECK(all == parts);
  // Over many seeds every row of user 0 is picked at some point.
  std::set<int32_t> picked;
  for (uint64_t seed = 0; seed < 64; ++seed) picked.insert(split_leave_one_out(d, seed).test.item[0]);
  CHECK(picked == std::set<int32_t>{0, 1, 2});
}

TEST_CASE("ML-100K: canonical u1 split matches its files") {
  std::string dir = ml100k_dir();
  if (dir.empty()) return;
  Split s = read_canonical_split(dir, "u1");
  CHECK(s.train.size() == 80000);
  CHECK(s.test.size() == 20000);
  CHECK(s.train.num_users == 943);
  CHECK(s.test.num_items == 1682);
  CHECK(s.train.users == s.test.users);
  // u1.base starts "1 1 5 874965758"; u1.test starts "1 6 5 887431973".
  CHECK(s.train.user[0] == 0);
  CHECK(s.train.item[0] == 0);
  CHECK(s.test.item[0] == 5);
  CHECK(s.test.timestamp[0] == 887431973);
  Split ua = read_canonical_split(dir, "ua");
  CHECK(ua.test.size() == 9430);  // 10 ratings per user
  CHECK_THROWS_AS(read_canonical_split(dir, "u6"), Error);
}
