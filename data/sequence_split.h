#pragma once
// The SASRec paper's split (Kang & McAuley 2018, §IV-A): each user's most recent item is the
// test item, the one before it the validation item, the rest the training sequence. A user with
// fewer than 3 interactions keeps them all for training and has neither.
#include <cstdint>
#include <vector>

#include "data/user_sequences.h"

namespace curec::data {

struct SequenceSplit {
  UserSequences all;    // the whole sequences (what each user ever interacted with)
  UserSequences train;  // all but the last two items of users with >= 3, whole sequences otherwise
  std::vector<int32_t> valid, test;  // [num_users]: the dense item, -1 for a user with fewer than 3

  int32_t num_users() const { return all.num_users; }
  int32_t num_items() const { return all.num_items; }
  int64_t evaluated_users() const;  // users with a test item
};

SequenceSplit split_last_two(const UserSequences& sequences);

}  // namespace curec::data
