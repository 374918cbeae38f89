#pragma once
// Implicit sequences with a next-item structure a sequence model can learn: items form
// `num_cycles` disjoint cycles; each user is bound to one cycle and walks it from a random
// start, one step per interaction, except that with probability `noise` an interaction is a
// uniformly random item instead (the walk continues from where it was). So the item after a
// window is predictable from the window's last clean item.
#include <cstdint>

#include "data/interactions.h"

namespace curec::data {

struct SyntheticSequenceOptions {
  int32_t num_users = 200;
  int32_t num_items = 100;   // split evenly into the cycles (a remainder joins the last cycle)
  int32_t num_cycles = 10;
  int32_t min_length = 10, max_length = 30;  // interactions per user, uniform in [min, max]
  float noise = 0.1f;
  uint64_t seed = 0;
};

// Rows ordered by user, then time; timestamps are 0, 1, 2, ... per user; ratings 1; raw ids
// are 1..n.
Interactions synthetic_sequences(const SyntheticSequenceOptions& options);

// The clean successor of `item` in its cycle (what a perfect model predicts).
int32_t synthetic_next_item(const SyntheticSequenceOptions& options, int32_t item);

}  // namespace curec::data
