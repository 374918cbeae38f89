#include "train/sequence_eval.h"

#include <algorithm>
#include <cmath>

#include "core/autograd.h"
#include "core/error.h"
#include "data/next_item_examples.h"
#include "train/ranking_math.h"

namespace curec::train {

namespace {

constexpr int64_t kMaxChunkScores = int64_t{1} << 24;

// (hit, ndcg) of a target scored `target` against `n` candidate scores, skipping sorted `skip`
// columns (full ranking) when given.
ranking_math::UserMetrics rank_row(const float* scores, int64_t n, int64_t target_col, const int32_t* skip,
                                   int64_t n_skip, int k, const models::SequenceModel& model) {
  const float t = scores[target_col];
  ranking_math::Counts c;
  int64_t s = 0;
  for (int64_t j = 0; j < n; ++j) {
    if (j == target_col) continue;
    while (s < n_skip && skip[s] < j) ++s;
    if (s < n_skip && skip[s] == j) continue;
    CUREC_CHECK(!std::isnan(scores[j]) && !std::isnan(t), model.name(),
                " evaluation: the model's scores hold NaN, so the ranking is undefined; the model has diverged");
    ranking_math::compare(scores[j], t, c.greater, c.ties);
    ++c.candidates;
  }
  return ranking_math::user_metrics(c, k, k, true);
}

}  // namespace

SequenceEvalSet SequenceEvalSet::make(const data::SequenceSplit& split, EvalPart part, int64_t maxlen,
                                      const SequenceEvalOptions& o, Device device) {
  CUREC_CHECK(maxlen >= 1, "sequence evaluation: maxlen must be at least 1, got ", maxlen);
  CUREC_CHECK(o.negatives >= 1, "sequence evaluation: negatives must be at least 1, got ", o.negatives);
  const bool test = part == EvalPart::test;
  SequenceEvalSet s;
  s.num_items = split.num_items();
  const int32_t U = split.num_users();
  for (int32_t u = 0; u < U; ++u)
    if (split.test[u] >= 0) s.users.push_back(u);
  const int64_t n = s.size();
  CUREC_CHECK(n > 0, "sequence evaluation: no user has 3 interactions, so no user has a validation and a test item");
  // Negatives exclude everything an evaluated user ever chose; the sampler's row u is keyed by u.
  data::SequenceIdSets seen = data::sequence_id_sets(U, [&](int32_t u) {
    return split.test[u] >= 0 ? split.all.of(u) : std::span<const int32_t>();
  });
  for (int32_t u : s.users)
    CUREC_CHECK(seen.row_ptr[u + 1] - seen.row_ptr[u] - 1 < s.num_items, "sequence evaluation: user ", u,
                " interacted with all ", s.num_items, " items, so no negative can be drawn; remove the user");
  data::NegativeSampler sampler(seen.row_ptr, seen.cols, s.num_items + 1, o.negatives, o.seed);
  const std::vector<int64_t> drawn =
      sampler.sample(Tensor::arange(U, DType::i32), test ? 2 : 1).to_vector<int64_t>();
  const int64_t C = 1 + o.negatives;
  std::vector<int64_t> inputs(static_cast<size_t>(n * maxlen)), candidates(static_cast<size_t>(n * C));
  std::vector<int32_t> row;
  for (int64_t r = 0; r < n; ++r) {
    const int32_t u = s.users[r];
    std::span<const int32_t> all = split.all.of(u);
    std::span<const int32_t> history = all.first(all.size() - (test ? 1 : 2));
    const int32_t target = (test ? split.test[u] : split.valid[u]) + 1;
    data::left_padded(history, maxlen, inputs.data() + r * maxlen);
    candidates[r * C] = target;
    std::copy_n(drawn.begin() + static_cast<int64_t>(u) * o.negatives, o.negatives, candidates.begin() + r * C + 1);
    s.targets.push_back(target);
    row.assign(1, 0);
    for (int32_t i : history)
      if (i + 1 != target) row.push_back(i + 1);
    std::sort(row.begin(), row.end());
    row.erase(std::unique(row.begin(), row.end()), row.end());
    s.excluded.insert(s.excluded.end(), row.begin(), row.end());
    s.excluded_ptr.push_back(static_cast<int64_t>(s.excluded.size()));
  }
  s.inputs = Tensor::from_vector(inputs, {n, maxlen}, device);
  s.candidates = Tensor::from_vector(candidates, {n, C}, device);
  return s;
}

std::vector<double> sequence_eval_values(models::SequenceModel& model, const SequenceEvalSet& set, int64_t first,
                                         int64_t count, int k, bool full, int64_t chunk_users) {
  CUREC_CHECK(k >= 1, "sequence evaluation: k must be at least 1, got ", k);
  CUREC_CHECK(chunk_users >= 1, "sequence evaluation: chunk_users must be at least 1, got ", chunk_users);
  CUREC_CHECK(first >= 0 && count >= 0 && first + count <= set.size(), "sequence evaluation: users [", first, ", ",
              first + count, ") of ", set.size());
  NoGradGuard no_grad;
  const bool was_training = model.is_training();
  model.eval();
  const int64_t cols = set.num_items + 1, C = set.candidates.size(1);
  const int64_t chunk = full ? std::clamp(kMaxChunkScores / cols, int64_t{1}, chunk_users) : chunk_users;
  const int per_user = full ? 4 : 2;
  std::vector<double> out;
  out.reserve(static_cast<size_t>(count * per_user));
  for (int64_t start = first; start < first + count; start += chunk) {
    const int64_t n = std::min(chunk, first + count - start);
    const Tensor seqs = set.inputs.rows(start, n);
    const std::vector<float> sampled = model.score(seqs, set.candidates.rows(start, n)).to_vector<float>();
    CUREC_CHECK(static_cast<int64_t>(sampled.size()) == n * C, model.name(), ": score gave ", sampled.size(),
                " scores for ", n, " x ", C, " candidates");
    std::vector<float> all;
    if (full) {
      all = model.score_all_items(seqs).to_vector<float>();
      CUREC_CHECK(static_cast<int64_t>(all.size()) == n * cols, model.name(), ": score_all_items gave ", all.size(),
                  " scores for ", n, " users x ", cols, " columns (items + the padding column 0)");
    }
    for (int64_t r = 0; r < n; ++r) {
      ranking_math::UserMetrics m = rank_row(sampled.data() + r * C, C, 0, nullptr, 0, k, model);
      out.push_back(m.hit);
      out.push_back(m.ndcg);
      if (!full) continue;
      const int64_t u = start + r;
      const int32_t* skip = set.excluded.data() + set.excluded_ptr[u];
      m = rank_row(all.data() + r * cols, cols, set.targets[u], skip, set.excluded_ptr[u + 1] - set.excluded_ptr[u],
                   k, model);
      out.push_back(m.hit);
      out.push_back(m.ndcg);
    }
  }
  model.train(was_training);
  return out;
}

Metrics sequence_metrics(const std::vector<double>& values, int k, bool full) {
  const size_t per_user = full ? 4 : 2;
  CUREC_CHECK(!values.empty() && values.size() % per_user == 0, "sequence evaluation: ", values.size(),
              " values are not ", per_user, " per user");
  std::vector<double> sum(per_user, 0.0);
  for (size_t j = 0; j < values.size(); ++j) sum[j % per_user] += values[j];
  const double users = static_cast<double>(values.size() / per_user);
  const std::string at = "_at_" + std::to_string(k);
  Metrics m{{"hr" + at, sum[0] / users}, {"ndcg" + at, sum[1] / users}};
  if (full) {
    m["full_hr" + at] = sum[2] / users;
    m["full_ndcg" + at] = sum[3] / users;
  }
  return m;
}

EvalPlan sequence_eval_plan(models::SequenceModel& model, const SequenceEvalSet& set, int k, bool full,
                            int64_t chunk_users) {
  EvalPlan p;
  p.units = set.size();
  p.part = [&model, &set, k, full, chunk_users](int64_t first, int64_t count) {
    return sequence_eval_values(model, set, first, count, k, full, chunk_users);
  };
  p.finish = [k, full](const std::vector<double>& values) { return sequence_metrics(values, k, full); };
  return p;
}

}  // namespace curec::train
