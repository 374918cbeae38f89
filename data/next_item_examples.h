#pragma once
// SASRec's training examples (Kang & McAuley 2018; the authors' sampler.py): for every user with
// at least two training items s[0..c), the input is s[0..c-1) and the positives s[1..c) — at
// each position the model learns the item that came next — both cut to their last maxlen items
// and left-padded to maxlen. Each position also gets one negative: an item drawn uniformly from
// those outside the user's training sequence, afresh each epoch.
//
// Ids here are the models' sequence ids: dense item id + 1, so that 0 is the padding.
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "core/tensor.h"
#include "data/negative_sampler.h"
#include "data/user_sequences.h"

namespace curec::data {

struct NextItemExamples {
  int64_t maxlen = 0, num_items = 0;
  Tensor users;      // i32 [n]: each example's user (their negatives exclude that user's items)
  Tensor inputs;     // i64 [n, maxlen]: sequence ids, 0 = padding on the left
  Tensor positives;  // i64 [n, maxlen]: the next item at each input position, 0 where padded
  Tensor mask;       // f32 [n, maxlen]: 1 at positions with a positive, 0 at padding
  double mean_positions = 0;  // mean count of unpadded positions per example
  int64_t size() const { return users.defined() ? users.numel() : 0; }
};

// One example per user with >= 2 training items, in user order; an error when there is none.
NextItemExamples next_item_examples(const UserSequences& train, int64_t maxlen, Device device = Device::cpu());

// maxlen negatives per example (row r of sample(users, epoch, first) is example number
// first + r of the epoch), as sequence ids: uniform over the items not in the user's training
// sequence, never the padding 0.
NegativeSampler next_item_negatives(const UserSequences& train, int64_t maxlen, uint64_t seed,
                                    Device device = Device::cpu());

// The last maxlen of `items` (dense ids) as sequence ids, left-padded with 0: out[maxlen].
void left_padded(std::span<const int32_t> items, int64_t maxlen, int64_t* out);

// Users' item sets over sequence ids in CSR form, with the padding 0 in every row, for a
// NegativeSampler that never draws the padding or a listed item. items_of(u) gives user u's
// dense items (any order, repeats allowed).
struct SequenceIdSets {
  std::vector<int64_t> row_ptr{0};
  std::vector<int32_t> cols;
};
SequenceIdSets sequence_id_sets(int32_t num_users, const std::function<std::span<const int32_t>(int32_t)>& items_of);

}  // namespace curec::data
