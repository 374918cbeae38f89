#pragma once
// The per-user ranking formulas shared by the CPU loops and the CUDA kernel of
// RankingAccumulator, so that both backends turn the same counts into the same metrics.
//
// For one user with held-out test item t, the candidates are the items j != t that the user
// did not interact with in training (and, in the book-compatible mode, j < candidates_limit).
// Against the test score s_t each candidate is either above it (s_j > s_t), tied with it
// (s_j == s_t) or below it.
//
// Tie rule: for the rank, ties are ranked pessimistically (the test item comes after every
// candidate with an equal score), so a constant scorer never earns a hit it cannot justify;
// for the AUC a tie counts half, the usual Mann-Whitney convention.
#include <cmath>
#include <cstdint>

#include "core/philox.h"  // CUREC_HD

namespace curec::train::ranking_math {

// Slots of the running sums an accumulator keeps (as doubles) on its device.
enum Slot : int {
  kHitSum = 0,
  kAucSum,
  kNdcgSum,
  kUsers,          // users with a test item (the denominator of every mean)
  kNanUsers,       // users whose score row holds a NaN: the ranking is undefined
  kMalformedUsers, // users whose training items are not strictly increasing
  kSlots
};

struct Counts {
  int64_t greater = 0;     // candidates scored above the test item
  int64_t ties = 0;        // candidates scored equal to it
  int64_t candidates = 0;  // all candidates
};

struct UserMetrics {
  double hit = 0, auc = 0, ndcg = 0;
};

// +1 / 0 / -1 contribution of one candidate score to (greater, ties).
CUREC_HD void compare(float s, float s_test, int64_t& greater, int64_t& ties) {
  greater += s > s_test ? 1 : 0;
  ties += s == s_test ? 1 : 0;
}

// 0-based rank of the test item among the candidates and itself.
CUREC_HD int64_t rank_of(const Counts& c) { return c.greater + c.ties; }

// Hit@hit_k and NDCG@ndcg_k (the cut-offs may differ: one pass of counts serves both).
// `test_ranked` is false only in the book-compatible mode when the test item itself lies at or
// above candidates_limit: the book's list then never contains it, and it scores a miss (0, 0, 0).
// A user whose every other item is a training item has no candidates: the test item is
// trivially first (hit 1, ndcg 1) and no negative outranks it (auc 1).
CUREC_HD UserMetrics user_metrics(const Counts& c, int hit_k, int ndcg_k, bool test_ranked) {
  UserMetrics m;
  if (!test_ranked) return m;
  int64_t rank = rank_of(c);
  if (rank < hit_k) m.hit = 1.0;
  if (rank < ndcg_k) m.ndcg = 1.0 / log2(static_cast<double>(rank) + 2.0);
  m.auc = c.candidates == 0
              ? 1.0
              : (static_cast<double>(c.candidates - c.greater) - 0.5 * static_cast<double>(c.ties)) /
                    static_cast<double>(c.candidates);
  return m;
}

// The number of leading items that can be candidates: all of them, or the book's prefix.
CUREC_HD int64_t candidate_range(int64_t num_items, int64_t candidates_limit) {
  return candidates_limit < 0 || candidates_limit > num_items ? num_items : candidates_limit;
}

// Both backends count by subtraction: every item j < range is compared with the test score,
// then the comparisons of the test item itself and of the `removed` training items below range
// are taken back (with strictly increasing training items, exactly the candidates).
CUREC_HD int64_t candidate_count(int64_t range, int64_t test_item, int64_t removed) {
  return range - (test_item < range ? 1 : 0) - removed;
}

}  // namespace curec::train::ranking_math
