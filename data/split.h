#pragma once
// Train/test splits. Both halves share the id maps of the data set they came from.
#include <cstdint>
#include <string>

#include "data/interactions.h"

namespace curec::data {

struct Split {
  Interactions train, test;
};

// The book's random split: row i goes to train when philox::uniform(seed, 0, i) < 1 - test_ratio,
// so the split is a function of the seed. Both halves keep file order.
Split split_random(const Interactions& data, double test_ratio, uint64_t seed);

// The book's sequence-aware split: per user, the latest interaction (max timestamp, ties to
// the later row) is the test row; the rest is train, sorted per user by (timestamp, row).
// Train is grouped by user in dense id order; test holds one row per user in that order.
// A user with a single interaction has it in test and none in train.
Split split_seq_aware(const Interactions& data);

// Leave-one-out: one uniformly random interaction per user (philox::below(seed, 0, user,
// count)) to test, ordered by user; train keeps the rest in file order.
Split split_leave_one_out(const Interactions& data, uint64_t seed);

// Whether NAME is one of ML-100K's canonical splits: u1..u5, ua, ub.
bool is_canonical_split(const std::string& name);
// An ML-100K canonical split: DIR/NAME.base and DIR/NAME.test, read with the id maps of
// DIR/u.data.
Split read_canonical_split(const std::string& dir, const std::string& name);

}  // namespace curec::data
