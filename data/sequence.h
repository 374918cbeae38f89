#pragma once
// Caser's training windows (the book's SeqDataset, D2L section 15.7.3): each user's training
// items in time order are cut into windows of the L previous items followed by the next item.
//
// For a user with c training items s[0..c) (time order; ties keep input order):
//   * c >= L + 1: the c - L windows (s[t-L..t) -> s[t]) for t = L..c-1, as the book's
//     _win(..., L + 1) yields them (it yields them from the most recent backwards; we store
//     them per user in time order, which only reorders rows).
//   * c <= L: no window. Here the book yields the user's whole short sequence once; for
//     c == L its "target" is then the window's own last item, and for 1 < c < L the row
//     cannot be stored (numpy cannot broadcast it). ML-100K users never hit this (>= 20
//     ratings); we skip such users rather than train on a leaked or malformed row.
// So the number of windows is sum over users of max(c - L, 0).
// The test sequence of a user is their last L training items (the book's test_seq); a user
// with fewer than L is left-padded with `pad_item` (and has_full_history = 0).
#include <cstdint>
#include <vector>

#include "core/tensor.h"
#include "data/interactions.h"
#include "data/negative_sampler.h"

namespace curec::data {

struct SequenceData {
  int64_t L = 0, num_users = 0, num_items = 0;
  Tensor users;       // i64 [n]
  Tensor sequences;   // i64 [n, L], oldest first
  Tensor targets;     // i64 [n]
  Tensor test_sequences;     // i64 [num_users, L]: each user's last L training items
  Tensor has_full_history;   // u8 [num_users]: 1 where the user has >= L training items
  int64_t size() const { return users.defined() ? users.numel() : 0; }
};

// Windows of `train` (implicit: ratings are ignored), ordered by (user, timestamp).
// pad_item defaults to num_items, a dedicated padding id (an embedding then needs
// num_items + 1 rows).
SequenceData make_sequences(const Interactions& train, int64_t L, int64_t pad_item = -1);

// The expected window count for users with the given training-item counts.
int64_t window_count(const std::vector<int64_t>& items_per_user, int64_t L);

// The book draws each window's negative from the items its user has not interacted with in
// training; this sampler does that (k per window, reproducible from (seed, epoch, row)).
NegativeSampler sequence_negatives(const Interactions& train, int64_t k, uint64_t seed,
                                   Device device = Device::cpu());

}  // namespace curec::data
