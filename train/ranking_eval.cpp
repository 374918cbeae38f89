#include "train/ranking_eval.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "core/autograd.h"
#include "core/dispatch.h"
#include "core/parallel.h"
#include "train/ranking_math.h"

namespace curec::train {

namespace rm = ranking_math;

namespace {

double* sums_of(const Tensor& sums) { return reinterpret_cast<double*>(sums.data<int64_t>()); }

void check_on(const Tensor& t, DType dtype, int64_t dims, Device device, const char* arg) {
  check_defined("ranking evaluation", t, arg);
  check_dtype("ranking evaluation", t, dtype, arg);
  CUREC_CHECK(t.dim() == dims, "ranking evaluation: ", arg, " must have ", dims, " dimension(s), got ", t.str());
  CUREC_CHECK(t.device() == device, "ranking evaluation: ", arg, " is ", t.str(), " but the accumulator is on ",
              device.str(), "; move it with .to(", device.str(), ")");
}

// Checks the chunk's test items and training rows in user order (so that the first bad one is
// the one named) and marks the rows that are not strictly increasing.
void check_chunk(int64_t n, int64_t num_items, int64_t first_user, const int64_t* row_ptr, const int32_t* cols,
                 int64_t nnz, const int32_t* test_items, std::vector<char>& malformed) {
  for (int64_t i = 0; i < n; ++i) {
    const int64_t u = first_user + i;
    const int64_t t = test_items[u];
    malformed[static_cast<size_t>(i)] = 0;
    if (t < 0) continue;
    CUREC_CHECK(t < num_items, "ranking evaluation: test item ", t, " of user ", u, " is out of range for ",
                num_items, " items; item ids must lie in [0, ", num_items, ")");
    const int64_t b = row_ptr[u], e = row_ptr[u + 1];
    CUREC_CHECK(0 <= b && b <= e && e <= nnz, "ranking evaluation: train_row_ptr of user ", u, " is [", b, ", ",
                e, ") but train_cols has ", nnz, " entries");
    for (int64_t p = b; p < e; ++p) {
      CUREC_CHECK(cols[p] >= 0 && cols[p] < num_items, "ranking evaluation: training item ", cols[p], " of user ",
                  u, " is out of range for ", num_items, " items");
      if (p > b && cols[p] <= cols[p - 1]) malformed[static_cast<size_t>(i)] = 1;
    }
  }
}

enum class UserState : char { skipped, counted, nan, malformed };

struct UserResult {
  UserState state = UserState::skipped;
  rm::UserMetrics metrics;
};

// One user by subtraction, as the CUDA kernel: a branch-free pass compares every item below
// `range` with the test score (and looks for NaN in the whole row), then the test item's own
// comparison and those of the training items below `range` are taken back.
UserResult rank_user(const float* s, int64_t num_items, int64_t range, int64_t t, const int32_t* train,
                     int64_t train_len, int hit_k, int ndcg_k) {
  const float st = s[t];
  int64_t greater = 0, ties = 0, nans = 0;
  for (int64_t j = 0; j < range; ++j) {
    const float v = s[j];
    greater += v > st;
    ties += v == st;
    nans += v != v;
  }
  for (int64_t j = range; j < num_items; ++j) nans += s[j] != s[j];
  UserResult r;
  if (nans > 0) {
    r.state = UserState::nan;
    return r;
  }
  if (t < range) --ties;  // the test item against itself
  int64_t removed = 0;
  for (int64_t p = 0; p < train_len; ++p) {
    const int32_t c = train[p];
    if (c == t || c >= range) continue;
    greater -= s[c] > st;
    ties -= s[c] == st;
    ++removed;
  }
  rm::Counts c;
  c.greater = greater;
  c.ties = ties;
  c.candidates = rm::candidate_count(range, t, removed);
  r.state = UserState::counted;
  r.metrics = rm::user_metrics(c, hit_k, ndcg_k, t < range);
  return r;
}

void rank_chunk_cpu(const float* scores, int64_t n, int64_t num_items, int64_t first_user, const int64_t* row_ptr,
                    const int32_t* cols, int64_t nnz, const int32_t* test_items, int hit_k, int ndcg_k,
                    int64_t limit, double* sums) {
  const int64_t range = rm::candidate_range(num_items, limit);
  std::vector<char> malformed(static_cast<size_t>(n));
  check_chunk(n, num_items, first_user, row_ptr, cols, nnz, test_items, malformed);
  std::vector<UserResult> results(static_cast<size_t>(n));
  const int64_t grain = std::max<int64_t>(1, kCpuGrain / num_items);
  parallel_for(0, n, grain, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      const int64_t u = first_user + i;
      const int64_t t = test_items[u];
      if (t < 0) continue;
      UserResult& r = results[static_cast<size_t>(i)];
      r = rank_user(scores + i * num_items, num_items, range, t, cols + row_ptr[u], row_ptr[u + 1] - row_ptr[u],
                    hit_k, ndcg_k);
      if (r.state == UserState::counted && malformed[static_cast<size_t>(i)]) r.state = UserState::malformed;
    }
  });
  for (const UserResult& r : results) {  // in user order, whatever the threads
    if (r.state == UserState::skipped) continue;
    sums[rm::kUsers] += 1;
    if (r.state != UserState::counted) {
      sums[r.state == UserState::nan ? rm::kNanUsers : rm::kMalformedUsers] += 1;
      continue;
    }
    sums[rm::kHitSum] += r.metrics.hit;
    sums[rm::kAucSum] += r.metrics.auc;
    sums[rm::kNdcgSum] += r.metrics.ndcg;
  }
}

}  // namespace

RankingAccumulator::RankingAccumulator(int k, Device device, int64_t candidates_limit)
    : RankingAccumulator(k, k, device, candidates_limit) {}

RankingAccumulator::RankingAccumulator(int hit_k, int ndcg_k, Device device, int64_t candidates_limit)
    : k_(hit_k), ndcg_k_(ndcg_k), device_(device), candidates_limit_(candidates_limit) {
  CUREC_CHECK(hit_k >= 1 && ndcg_k >= 1, "RankingAccumulator: the cut-offs must be at least 1, got k = ", hit_k,
              " and ndcg_k = ", ndcg_k);
  CUREC_CHECK(candidates_limit != 0, "RankingAccumulator: candidates_limit 0 leaves no candidates; use -1 to rank "
              "all items or a positive limit to reproduce the book's evaluator");
  sums_ = Tensor::zeros({rm::kSlots}, DType::i64, device);  // all-zero bits are 0.0 doubles
}

void RankingAccumulator::reset() { sums_.zero_(); }

void RankingAccumulator::add_chunk(const Tensor& scores, int64_t first_user, const Tensor& train_row_ptr,
                                   const Tensor& train_cols, const Tensor& test_items) {
  check_on(scores, DType::f32, 2, device_, "scores");
  check_on(train_row_ptr, DType::i64, 1, device_, "train_row_ptr");
  check_on(train_cols, DType::i32, 1, device_, "train_cols");
  check_on(test_items, DType::i32, 1, device_, "test_items");
  const int64_t num_users = test_items.size(0), n = scores.size(0), num_items = scores.size(1);
  CUREC_CHECK(train_row_ptr.size(0) == num_users + 1, "ranking evaluation: train_row_ptr ", train_row_ptr.str(),
              " must hold num_users + 1 = ", num_users + 1, " offsets (test_items is ", test_items.str(), ")");
  CUREC_CHECK(first_user >= 0 && first_user + n <= num_users, "ranking evaluation: a chunk of ", n,
              " score rows from user ", first_user, " runs past the ", num_users, " users of test_items");
  if (n == 0) return;
  CUREC_CHECK(num_items > 0, "ranking evaluation: scores ", scores.str(), " has no items");
  const int64_t nnz = train_cols.size(0);
  const int64_t* row_ptr = train_row_ptr.data<int64_t>();
  const int32_t *cols = train_cols.data<int32_t>(), *tests = test_items.data<int32_t>();
  dispatch(
      "ranking evaluation", device_,
      [&] {
        rank_chunk_cpu(scores.data<float>(), n, num_items, first_user, row_ptr, cols, nnz, tests, k_, ndcg_k_,
                       candidates_limit_, sums_of(sums_));
      },
      [&](int dev) {
        cuda::rank_chunk(scores.data<float>(), n, num_items, first_user, row_ptr, cols, nnz, tests, k_, ndcg_k_,
                         candidates_limit_, sums_of(sums_), dev);
      });
}

RankingMetrics RankingAccumulator::finish() { return metrics_of(sums(), k_, ndcg_k_); }

std::vector<double> RankingAccumulator::sums() const {
  curec::synchronize(device_);  // the one host sync; reports index errors a kernel raised
  std::vector<int64_t> bits = sums_.to_vector<int64_t>();
  std::vector<double> s(rm::kSlots);
  std::memcpy(s.data(), bits.data(), rm::kSlots * sizeof(double));
  return s;
}

RankingMetrics RankingAccumulator::metrics_of(const std::vector<double>& s, int k, int ndcg_k) {
  CUREC_CHECK(s.size() == rm::kSlots, "ranking evaluation: ", s.size(), " sums, expected ", int{rm::kSlots});
  CUREC_CHECK(s[rm::kNanUsers] == 0, "ranking evaluation: the scores of ", static_cast<int64_t>(s[rm::kNanUsers]),
              " users contain NaN, so their ranking is undefined; the model has diverged (lower the learning "
              "rate or check the loss)");
  CUREC_CHECK(s[rm::kMalformedUsers] == 0, "ranking evaluation: the training items of ",
              static_cast<int64_t>(s[rm::kMalformedUsers]),
              " users are not strictly increasing; build train_row_ptr/train_cols from a CSR with sorted, "
              "distinct items per user (data/csr.h)");
  RankingMetrics m;
  m.k = k;
  m.ndcg_k = ndcg_k;
  m.users = static_cast<int64_t>(s[rm::kUsers]);
  if (m.users > 0) {
    m.hit_at_k = s[rm::kHitSum] / s[rm::kUsers];
    m.auc = s[rm::kAucSum] / s[rm::kUsers];
    m.ndcg_at_k = s[rm::kNdcgSum] / s[rm::kUsers];
  }
  return m;
}

RankingMetrics evaluate_ranking(const std::function<Tensor(const Tensor& users)>& score_all_items,
                                int64_t num_users, int64_t num_items, const Tensor& train_row_ptr,
                                const Tensor& train_cols, const Tensor& test_items, int k, int64_t chunk_users,
                                int64_t candidates_limit) {
  check_defined("evaluate_ranking", test_items, "test_items");
  CUREC_CHECK(chunk_users >= 1, "evaluate_ranking: chunk_users must be at least 1, got ", chunk_users);
  CUREC_CHECK(test_items.dim() == 1 && test_items.size(0) == num_users, "evaluate_ranking: test_items ",
              test_items.str(), " must hold one item per user (", num_users, ")");
  NoGradGuard no_grad;
  const Device device = test_items.device();
  RankingAccumulator acc(k, device, candidates_limit);
  const Tensor all_users = Tensor::arange(num_users, DType::i32, device);
  for (int64_t first = 0; first < num_users; first += chunk_users) {
    const int64_t n = std::min(chunk_users, num_users - first);
    Tensor scores = score_all_items(all_users.rows(first, n));
    CUREC_CHECK(scores.defined() && scores.dim() == 2 && scores.size(0) == n && scores.size(1) == num_items,
                "evaluate_ranking: the scorer must return f32 [", n, ", ", num_items, "] for ", n,
                " users, got ", scores.defined() ? scores.str() : std::string("an undefined tensor"));
    acc.add_chunk(scores, first, train_row_ptr, train_cols, test_items);
  }
  return acc.finish();
}

}  // namespace curec::train
