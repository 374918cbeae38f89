#include <map>

#include "data/sequence.h"
#include "data/synthetic_sequences.h"
#include "tests/testing.h"

using namespace curec;
using namespace curec::data;

namespace {

// Users 0..3 with 7, 4, 3 and 0 items; timestamps given out of order to test the time sort.
Interactions toy() {
  Interactions d;
  d.num_users = 4;
  d.num_items = 20;
  int64_t times[7] = {6, 0, 5, 1, 4, 2, 3};  // user 0: items 10 + time
  for (int64_t t : times) d.push_back(0, static_cast<int32_t>(10 + t), 1.0f, t);
  for (int32_t t = 0; t < 4; ++t) d.push_back(1, t, 1.0f, 100 + t);
  for (int32_t t = 0; t < 3; ++t) d.push_back(2, 5 + t, 1.0f, t);
  return d;
}

}  // namespace

TEST_CASE("windows: L previous items -> next item, in time order") {
  SequenceData s = make_sequences(toy(), 3);
  // user 0: 7 - 3 = 4 windows, user 1: 4 - 3 = 1, user 2 (3 items) and user 3 (none): 0.
  REQUIRE(s.size() == 5);
  CHECK(s.size() == window_count({7, 4, 3, 0}, 3));
  CHECK(s.users.to_vector<int64_t>() == std::vector<int64_t>{0, 0, 0, 0, 1});
  CHECK(s.sequences.shape() == Shape{5, 3});
  CHECK(s.sequences.to_vector<int64_t>() ==
        std::vector<int64_t>{10, 11, 12, 11, 12, 13, 12, 13, 14, 13, 14, 15, 0, 1, 2});
  CHECK(s.targets.to_vector<int64_t>() == std::vector<int64_t>{13, 14, 15, 16, 3});
  // Test sequences: the last L training items; padded with num_items (20) when shorter.
  CHECK(s.test_sequences.to_vector<int64_t>() ==
        std::vector<int64_t>{14, 15, 16, 1, 2, 3, 5, 6, 7, 20, 20, 20});
  CHECK(s.has_full_history.to_vector<uint8_t>() == std::vector<uint8_t>{1, 1, 1, 0});
  SequenceData p = make_sequences(toy(), 5, 0);
  CHECK(p.test_sequences.to_vector<int64_t>()[10] == 0);  // user 2 padded with 0s: 0 0 5 6 7
  CHECK(p.test_sequences.rows(2, 1).to_vector<int64_t>() == std::vector<int64_t>{0, 0, 5, 6, 7});
  CHECK_THROWS_AS(make_sequences(toy(), 0), Error);
}

TEST_CASE("window count formula: sum over users of max(c - L, 0)") {
  SyntheticSequenceOptions o;
  o.num_users = 300;
  o.min_length = 1;
  o.max_length = 40;
  o.seed = 3;
  Interactions d = synthetic_sequences(o);
  std::vector<int64_t> per_user(o.num_users, 0);
  for (int32_t u : d.user) ++per_user[u];
  for (int64_t L : {1, 5, 10, 39, 40, 41}) {
    SequenceData s = make_sequences(d, L);
    int64_t expect = 0;
    for (int64_t c : per_user) expect += c > L ? c - L : 0;
    CHECK(s.size() == expect);
    CHECK(window_count(per_user, L) == expect);
    // Every window is a run of consecutive items of its user's sequence.
    std::vector<int64_t> users = s.users.to_vector<int64_t>(), seq = s.sequences.to_vector<int64_t>(),
                         tgt = s.targets.to_vector<int64_t>();
    std::map<int64_t, std::vector<int32_t>> by_user;
    for (size_t k = 0; k < d.size(); ++k) by_user[d.user[k]].push_back(d.item[k]);  // rows are in time order
    std::map<int64_t, int64_t> seen;
    for (int64_t r = 0; r < s.size(); ++r) {
      int64_t u = users[r], t = L + seen[u]++;
      const auto& items = by_user[u];
      REQUIRE(tgt[r] == items[t]);
      for (int64_t j = 0; j < L; ++j) REQUIRE(seq[r * L + j] == items[t - L + j]);
    }
  }
}

TEST_CASE("synthetic sequences follow their cycles up to the noise") {
  SyntheticSequenceOptions o;
  o.noise = 0.0f;
  Interactions clean = synthetic_sequences(o);
  clean.validate();
  // Raw ids 1..n, so saved models and the command line can name users and items.
  REQUIRE(clean.users);
  REQUIRE(clean.items);
  CHECK(clean.users->size() == o.num_users);
  CHECK(clean.items->raw(0) == 1);
  CHECK(clean.items->raw(o.num_items - 1) == o.num_items);
  for (size_t k = 1; k < clean.size(); ++k)
    if (clean.user[k] == clean.user[k - 1]) REQUIRE(clean.item[k] == synthetic_next_item(o, clean.item[k - 1]));
  o.noise = 0.3f;
  Interactions noisy = synthetic_sequences(o);
  int64_t follows = 0, pairs = 0;
  for (size_t k = 1; k < noisy.size(); ++k)
    if (noisy.user[k] == noisy.user[k - 1]) {
      ++pairs;
      follows += noisy.item[k] == synthetic_next_item(o, noisy.item[k - 1]);
    }
  double rate = static_cast<double>(follows) / pairs;  // about (1 - 0.3)^2 plus chance hits
  CHECK(rate > 0.40);
  CHECK(rate < 0.60);
  Interactions again = synthetic_sequences(o);
  CHECK(again.item == noisy.item);
  o.seed = 1;
  CHECK(synthetic_sequences(o).item != noisy.item);
}

TEST_CASE("window negatives avoid the user's training items") {
  SyntheticSequenceOptions o;
  o.num_items = 60;
  o.num_cycles = 3;
  Interactions d = synthetic_sequences(o);
  SequenceData s = make_sequences(d, 5);
  NegativeSampler neg = sequence_negatives(d, 2, 7);
  std::vector<int64_t> users = s.users.to_vector<int64_t>();
  std::vector<int64_t> v = neg.sample(s.users, 0).to_vector<int64_t>();
  REQUIRE(v.size() == users.size() * 2);
  for (size_t i = 0; i < v.size(); ++i) REQUIRE_FALSE(neg.is_positive(users[i / 2], v[i]));
}
