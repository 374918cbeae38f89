#include "train/tasks/ranking_task.h"

#include "core/autograd.h"
#include "data/csr.h"
#include "data/sequence.h"
#include "data/take.h"
#include "ops/loss.h"
#include "train/ranking_math.h"

namespace curec::train {

RankingLoss parse_ranking_loss(const std::string& name) {
  if (name == "bpr") return RankingLoss::bpr;
  if (name == "hinge") return RankingLoss::hinge;
  CUREC_FAIL("unknown ranking loss '", name, "': use bpr or hinge");
}

RankingEvalSet RankingEvalSet::from(const data::Interactions& train, const data::Interactions& test, Device device) {
  CUREC_CHECK(train.num_users == test.num_users && train.num_items == test.num_items,
              "ranking evaluation: train (", train.num_users, " users, ", train.num_items, " items) and test (",
              test.num_users, " users, ", test.num_items, " items) must share their id spaces");
  RankingEvalSet s;
  s.num_users = train.num_users;
  s.num_items = train.num_items;
  data::CsrTensors csr = data::to_tensors(data::csr_by_user(train), device);
  s.train_row_ptr = csr.row_ptr;
  s.train_cols = csr.col;
  std::vector<int32_t> test_items(static_cast<size_t>(s.num_users), -1);
  for (size_t r = 0; r < test.size(); ++r) {
    int32_t u = test.user[r];
    CUREC_CHECK(u >= 0 && u < s.num_users, "ranking evaluation: test user ", u, " is out of range for ", s.num_users,
                " users");
    CUREC_CHECK(test_items[u] < 0, "ranking evaluation: user ", u, " has more than one test item (",
                test_items[u], " and ", test.item[r], "); use a split with one held-out item per user "
                "(split_seq_aware or split_leave_one_out)");
    test_items[u] = test.item[r];
  }
  s.test_items = Tensor::from_vector(test_items, {s.num_users}, device);
  return s;
}

std::vector<double> ranking_sums(models::RankingModel& model, const RankingEvalSet& eval, int64_t first, int64_t count,
                                 int hit_k, int ndcg_k, int64_t chunk_users) {
  CUREC_CHECK(chunk_users >= 1, "ranking evaluation: chunk_users must be at least 1, got ", chunk_users);
  CUREC_CHECK(first >= 0 && count >= 0 && first + count <= eval.num_users, "ranking evaluation: users [", first, ", ",
              first + count, ") of ", eval.num_users);
  NoGradGuard no_grad;
  const bool was_training = model.is_training();
  model.eval();
  const Device device = eval.test_items.device();
  RankingAccumulator acc(hit_k, ndcg_k, device);
  const Tensor all_users = Tensor::arange(eval.num_users, DType::i32, device);
  for (int64_t start = first; start < first + count; start += chunk_users) {
    const int64_t n = std::min(chunk_users, first + count - start);
    const Tensor users = all_users.rows(start, n);
    const Tensor context = eval.context.defined() ? eval.context.rows(start, n) : Tensor();
    acc.add_chunk(model.score_all_items(users, context), start, eval.train_row_ptr, eval.train_cols, eval.test_items);
  }
  model.train(was_training);
  return acc.sums();
}

RankingMetrics evaluate_ranking_model(models::RankingModel& model, const RankingEvalSet& eval, int hit_k, int ndcg_k,
                                      int64_t chunk_users) {
  return RankingAccumulator::metrics_of(ranking_sums(model, eval, 0, eval.num_users, hit_k, ndcg_k, chunk_users), hit_k,
                                        ndcg_k);
}

RankingTask::RankingTask(models::RankingModel& model, const data::Interactions& train, const data::Interactions& test,
                         RankingOptions options)
    : model_(model), train_(train), test_(test), o_(options) {
  CUREC_CHECK(train.size() > 0, model.name(), ": there are no training rows");
  CUREC_CHECK(o_.hit_k >= 1 && o_.ndcg_k >= 1, model.name(), ": hit_k and ndcg_k must be at least 1, got ", o_.hit_k,
              " and ", o_.ndcg_k);
  train.validate();
  const int64_t L = model.context_length();
  std::vector<int64_t> per_user(static_cast<size_t>(train.num_users), 0);
  for (int32_t u : train.user) ++per_user[static_cast<size_t>(u)];
  rows_ = L > 0 ? data::window_count(per_user, L) : static_cast<int64_t>(train.size());
  CUREC_CHECK(rows_ > 0, model.name(), ": no user has more than L = ", L,
              " training items, so there is no window to train on");
}

void RankingTask::to(Device device) {
  const int64_t L = model_.context_length();
  eval_ = RankingEvalSet::from(train_, test_, device);
  if (L > 0) {
    data::SequenceData seq = data::make_sequences(train_, L);
    users_ = seq.users.to(device);
    positives_ = seq.targets.to(device);
    context_ = seq.sequences.to(device);
    eval_.context = seq.test_sequences.to(device);
    negatives_ = std::make_unique<data::NegativeSampler>(data::sequence_negatives(train_, 1, o_.seed, device));
  } else {
    users_ = train_.users_tensor(device);
    positives_ = train_.items_tensor(device);
    negatives_ = std::make_unique<data::NegativeSampler>(
        data::NegativeSampler::from_csr(data::csr_by_user(train_), 1, o_.seed, device));
  }
}

BatchLoss RankingTask::loss(const Tensor& idx, const StepContext& ctx) {
  const int64_t n = idx.numel();
  Tensor u = data::take_rows(users_, idx), pos = data::take_rows(positives_, idx);
  Tensor context = context_.defined() ? data::take_rows(context_, idx) : Tensor();
  Tensor neg = negatives_->sample(u, static_cast<uint64_t>(ctx.epoch), ctx.position).view({n});
  auto [sp, sn] = model_.score_pairs(u, context, pos, neg);
  return {o_.loss == RankingLoss::bpr ? bpr_loss(sp, sn, Reduction::mean)
                                      : hinge_loss(sp, sn, o_.margin, Reduction::mean)};
}

Metrics RankingTask::metrics(const RankingMetrics& m) const {
  return {{"hit_at_" + std::to_string(o_.hit_k), m.hit_at_k}, {"auc", m.auc},
          {"ndcg_at_" + std::to_string(o_.ndcg_k), m.ndcg_at_k}};
}

// Units are users; a part is the accumulator's sums over its users, added up in order.
std::optional<EvalPlan> RankingTask::evaluation(EvalPart part) {
  if (part != EvalPart::test) return std::nullopt;
  EvalPlan p;
  p.units = train_.num_users;
  p.part = [this](int64_t first, int64_t count) {
    return ranking_sums(model_, eval_, first, count, o_.hit_k, o_.ndcg_k, o_.eval_chunk_users);
  };
  p.finish = [this](const std::vector<double>& parts) {
    const size_t slots = ranking_math::kSlots;
    CUREC_CHECK(parts.size() % slots == 0, "ranking evaluation: ", parts.size(), " numbers are not whole sums");
    std::vector<double> total(slots, 0.0);
    for (size_t k = 0; k < parts.size(); ++k) total[k % slots] += parts[k];
    return metrics(RankingAccumulator::metrics_of(total, o_.hit_k, o_.ndcg_k));
  };
  return p;
}

}  // namespace curec::train
