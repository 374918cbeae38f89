#pragma once
// Ranking evaluation of implicit-feedback models (D2L §15.5-15.7: NeuMF, Caser): for every
// user, score all items, drop the user's training items, and rank the held-out test item among
// the rest. Hit@k (test item in the top k), AUC (fraction of candidates scored below it, ties
// half) and NDCG@k (1 / log2(rank + 2) for a 0-based rank below k). Ties rank pessimistically;
// train/ranking_math.h holds the per-user formulas both backends share.
//
// The book's evaluator only ranks item ids below the number of users (it builds its candidates
// from range(num_users)); curec ranks all items. candidates_limit = L reproduces the book:
// candidates are item ids < L, and a user whose test item is >= L scores a miss (hit 0,
// auc 0, ndcg 0), as in the book where such an item never appears in the ranked list.
#include <cstdint>
#include <functional>
#include <vector>

#include "core/tensor.h"

namespace curec::train {

struct RankingMetrics {
  double hit_at_k = 0, auc = 0, ndcg_at_k = 0;  // means over users with a test item
  int64_t users = 0;                            // users counted
  int k = 0;                                    // Hit@k's cut-off
  int ndcg_k = 0;                               // NDCG's (k unless the accumulator was given another)
};

// Sums per-user metrics chunk by chunk on one device; nothing is read back until finish().
// One pass over a user's scores counts the candidates above and tied with the test item; both
// cut-offs and the AUC come from those counts. On the CPU the users of a chunk are counted in
// parallel (core/parallel.h) and summed in user order, so the result does not depend on the
// thread count.
class RankingAccumulator {
 public:
  // k >= 1 for Hit@k and NDCG@k; candidates_limit < 0 ranks all items.
  RankingAccumulator(int k, Device device, int64_t candidates_limit = -1);
  // Hit@hit_k and NDCG@ndcg_k from the same counts.
  RankingAccumulator(int hit_k, int ndcg_k, Device device, int64_t candidates_limit = -1);

  // scores: f32 [n, num_items], row i for user first_user + i. train_row_ptr: i64
  // [num_users + 1] and train_cols: i32 [nnz], the users' training items, strictly increasing
  // within each row. test_items: i32 [num_users], the held-out item per user (-1 = none: the
  // user is skipped). All on this accumulator's device. Items out of [0, num_items) or a
  // row_ptr outside [0, nnz] are errors (thrown on the CPU; raised through the device error
  // flag on CUDA, reported by finish()).
  void add_chunk(const Tensor& scores, int64_t first_user, const Tensor& train_row_ptr, const Tensor& train_cols,
                 const Tensor& test_items);

  // Means so far (one host sync); the sums are kept, so more chunks may follow. Throws if a
  // counted user's scores held a NaN or a training row was not strictly increasing.
  RankingMetrics finish();
  // The running sums themselves (ranking_math::kSlots doubles; one host sync), for sums that
  // several ranks add up before metrics_of.
  std::vector<double> sums() const;
  // The means of summed slots, with finish()'s checks.
  static RankingMetrics metrics_of(const std::vector<double>& sums, int k, int ndcg_k);
  void reset();

  int k() const { return k_; }
  int ndcg_k() const { return ndcg_k_; }
  int64_t candidates_limit() const { return candidates_limit_; }
  Device device() const { return device_; }

 private:
  int k_, ndcg_k_;
  Device device_;
  int64_t candidates_limit_;
  Tensor sums_;  // ranking_math::kSlots doubles, stored as i64 bits (there is no f64 dtype)
};

// Scores every user in chunks of chunk_users: score_all_items(users) gets i32 [n] user ids on
// test_items' device and returns f32 [n, num_items]. Runs without autograd history.
RankingMetrics evaluate_ranking(const std::function<Tensor(const Tensor& users)>& score_all_items,
                                int64_t num_users, int64_t num_items, const Tensor& train_row_ptr,
                                const Tensor& train_cols, const Tensor& test_items, int k,
                                int64_t chunk_users = 256, int64_t candidates_limit = -1);

namespace cuda {
// Adds the chunk's sums into sums[ranking_math::kSlots] (deterministic: fixed reduction order).
void rank_chunk(const float* scores, int64_t n, int64_t num_items, int64_t first_user, const int64_t* row_ptr,
                const int32_t* cols, int64_t nnz, const int32_t* test_items, int hit_k, int ndcg_k,
                int64_t candidates_limit, double* sums, int device);
}  // namespace cuda

}  // namespace curec::train
