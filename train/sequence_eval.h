#pragma once
// The evaluation of sequential recommenders in the SASRec paper (Kang & McAuley 2018, §IV-B) and
// its authors' code: for every user with a test item, the model reads the user's sequence and
// ranks the held-out item among 100 items drawn uniformly (with replacement) from those the
// user never interacted with — neither in training nor as the validation or test item.
//   test:        input = training sequence + validation item (the last maxlen), target = test item
//   validation:  input = training sequence,                                   target = validation item
// HR@k = mean over users of [rank < k] and NDCG@k = mean of [rank < k] / log2(rank + 2), rank
// 0-based, over ALL evaluated users (the authors sample 10,000 of them). A candidate scored
// equal to the target ranks above it (train/ranking_math.h: ties are pessimistic), so a constant
// scorer earns nothing. The negatives are drawn once, keyed by (seed, part, user): every rank of
// a data-parallel run and every evaluation ranks the same candidates.
//
// The full ranking ranks the test item among all items except the user's history (every item of
// the input, the validation item included; never the target itself): full_hr_at_k and
// full_ndcg_at_k. Users are scored in chunks whose score matrix stays under 2^24 floats; each
// chunk's scores are read back and ranked on the host (an evaluation is not a training step), which
// gives every user's values exactly, whatever the device or the number of ranks.
#include <cstdint>
#include <vector>

#include "data/sequence_split.h"
#include "models/sequence_model.h"
#include "train/task.h"

namespace curec::train {

struct SequenceEvalOptions {
  int k = 10;                  // HR@k and NDCG@k
  int64_t negatives = 100;     // sampled candidates besides the target
  uint64_t seed = 2018;        // of the sampled candidates
  bool full_ranking = true;    // test only: also rank among all items
  int64_t chunk_users = 256;   // users scored together
};

// One part's users, inputs and candidates, built once.
struct SequenceEvalSet {
  int64_t num_items = 0;
  std::vector<int32_t> users;    // the evaluated users (dense ids), increasing
  Tensor inputs;                 // i64 [U, maxlen], sequence ids, left-padded
  Tensor candidates;             // i64 [U, 1 + negatives]: the target, then the negatives
  std::vector<int32_t> targets;  // [U], sequence ids
  // Full ranking: user r's excluded sequence ids are excluded[excluded_ptr[r], excluded_ptr[r + 1]),
  // increasing (the padding 0 and the history without the target).
  std::vector<int64_t> excluded_ptr{0};
  std::vector<int32_t> excluded;

  int64_t size() const { return static_cast<int64_t>(users.size()); }
  static SequenceEvalSet make(const data::SequenceSplit& split, EvalPart part, int64_t maxlen,
                              const SequenceEvalOptions& options, Device device = Device::cpu());
};

// Per-user values for users [first, first + count) of the set, in order: (hit, ndcg) under the
// sampled protocol, followed by (full hit, full ndcg) when `full`. Eval mode, no gradients.
std::vector<double> sequence_eval_values(models::SequenceModel& model, const SequenceEvalSet& set, int64_t first,
                                         int64_t count, int k, bool full, int64_t chunk_users = 256);

// Means of the values of every user: "hr_at_K", "ndcg_at_K" (and "full_hr_at_K", "full_ndcg_at_K").
Metrics sequence_metrics(const std::vector<double>& values, int k, bool full);

// The plan the Trainer (and data-parallel ranks) run: units are the set's users.
EvalPlan sequence_eval_plan(models::SequenceModel& model, const SequenceEvalSet& set, int k, bool full,
                            int64_t chunk_users = 256);

}  // namespace curec::train
