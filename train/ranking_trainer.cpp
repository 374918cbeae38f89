#include "train/ranking_trainer.h"

#include <cmath>
#include <limits>

#include "core/autograd.h"
#include "data/csr.h"
#include "data/take.h"
#include "ops/elementwise.h"
#include "ops/loss.h"
#include "ops/shape.h"
#include "train/metrics.h"
#include "train/ranking_math.h"
#include "train/trainer.h"

namespace curec::train {

RankingLoss parse_ranking_loss(const std::string& name) {
  if (name == "bpr") return RankingLoss::bpr;
  if (name == "hinge") return RankingLoss::hinge;
  CUREC_FAIL("unknown ranking loss '", name, "': use bpr or hinge");
}

RankingEpochReport RankingTrainResult::last_evaluated() const {
  for (auto it = epochs.rbegin(); it != epochs.rend(); ++it)
    if (it->evaluated) return *it;
  CUREC_FAIL("ranking training: no epoch was evaluated");
}

std::pair<Tensor, Tensor> NeuMFScorer::score_pairs(const Tensor& users, const Tensor&, const Tensor& positives,
                                                   const Tensor& negatives) {
  return {model_.forward(users, positives), model_.forward(users, negatives)};
}

std::pair<Tensor, Tensor> CaserScorer::score_pairs(const Tensor& users, const Tensor& context, const Tensor& positives,
                                                   const Tensor& negatives) {
  Tensor r = model_.represent(users, context);
  return {model_.score(r, positives), model_.score(r, negatives)};
}

Tensor CaserScorer::score_all_items(const Tensor& users) {
  return model_.score_all_items(users, data::take_rows(test_sequences_, users));
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

RankingEvalResult evaluate_ranking_model(RankingScorer& scorer, const RankingEvalSet& eval, int hit_k, int ndcg_k,
                                         int64_t chunk_users) {
  RankingMetrics m = RankingAccumulator::metrics_of(
      ranking_sums(scorer, eval, 0, eval.num_users, hit_k, ndcg_k, chunk_users), hit_k, ndcg_k);
  return RankingEvalResult{m.hit_at_k, m.auc, m.ndcg_at_k, m.users};
}

std::vector<double> ranking_sums(RankingScorer& scorer, const RankingEvalSet& eval, int64_t first, int64_t count,
                                 int hit_k, int ndcg_k, int64_t chunk_users) {
  CUREC_CHECK(chunk_users >= 1, "evaluate_ranking_model: chunk_users must be at least 1, got ", chunk_users);
  CUREC_CHECK(first >= 0 && count >= 0 && first + count <= eval.num_users, "ranking evaluation: users [", first, ", ",
              first + count, ") of ", eval.num_users);
  NoGradGuard no_grad;
  nn::Module& model = scorer.module();
  const bool was_training = model.is_training();
  model.eval();
  const Device device = eval.test_items.device();
  RankingAccumulator acc(hit_k, ndcg_k, device);
  const Tensor all_users = Tensor::arange(eval.num_users, DType::i32, device);
  for (int64_t start = first; start < first + count; start += chunk_users) {
    const int64_t n = std::min(chunk_users, first + count - start);
    acc.add_chunk(scorer.score_all_items(all_users.rows(start, n)), start, eval.train_row_ptr, eval.train_cols,
                  eval.test_items);
  }
  model.train(was_training);
  return acc.sums();
}

namespace {
// Training rows paired with one sampled negative each, keyed by (epoch, position): BPR or hinge.
class RankingTask : public Task {
 public:
  RankingTask(RankingScorer& scorer, const RankingExamples& train, const RankingEvalSet& eval,
              const data::NegativeSampler& negatives, const RankingTrainConfig& c)
      : scorer_(scorer), train_(train), eval_(eval), negatives_(negatives), c_(c) {
    CUREC_CHECK(train.size() > 0, "train_ranking: there are no training rows");
    CUREC_CHECK(negatives.k() == 1 && negatives.device() == c.device,
                "train_ranking: the negative sampler must draw k = 1 item per row on ", c.device.str(), ", got k = ",
                negatives.k(), " on ", negatives.device().str());
  }
  std::string name() const override { return scorer_.name(); }
  nn::Module& module() override { return scorer_.module(); }
  void to(Device) override {}  // the rows, the sampler and the evaluation set are built on the device
  int64_t num_examples() const override { return train_.size(); }
  BatchLoss loss(const Tensor& idx, const StepContext& ctx) override {
    const int64_t n = idx.numel();
    Tensor u = data::take_rows(train_.users, idx), pos = data::take_rows(train_.positives, idx);
    Tensor context = train_.context.defined() ? data::take_rows(train_.context, idx) : Tensor();
    Tensor neg = negatives_.sample(u, static_cast<uint64_t>(ctx.epoch), ctx.position).view({n});
    auto [sp, sn] = scorer_.score_pairs(u, context, pos, neg);
    return {c_.loss == RankingLoss::bpr ? bpr_loss(sp, sn, Reduction::mean)
                                        : hinge_loss(sp, sn, c_.margin, Reduction::mean)};
  }
  bool has(EvalPart part) const override { return part == EvalPart::test; }
  Metrics evaluate(EvalPart) override {
    RankingEvalResult m = evaluate_ranking_model(scorer_, eval_, c_.hit_k, c_.ndcg_k, c_.eval_chunk_users);
    return metrics(m.hit, m.auc, m.ndcg);
  }
  // Units are users; a part is the accumulator's sums over its users, added up in rank order.
  std::optional<EvalPlan> evaluation(EvalPart) override {
    EvalPlan p;
    p.units = eval_.num_users;
    p.part = [this](int64_t first, int64_t count) {
      return ranking_sums(scorer_, eval_, first, count, c_.hit_k, c_.ndcg_k, c_.eval_chunk_users);
    };
    p.finish = [this](const std::vector<double>& parts) {
      const size_t slots = ranking_math::kSlots;
      CUREC_CHECK(parts.size() % slots == 0, "ranking evaluation: ", parts.size(), " numbers are not whole sums");
      std::vector<double> total(slots, 0.0);
      for (size_t k = 0; k < parts.size(); ++k) total[k % slots] += parts[k];
      RankingMetrics m = RankingAccumulator::metrics_of(total, c_.hit_k, c_.ndcg_k);
      return metrics(m.hit_at_k, m.auc, m.ndcg_at_k);
    };
    return p;
  }
  bool higher_is_better(const std::string&) const override { return true; }

 private:
  Metrics metrics(double hit, double auc, double ndcg) const {
    return {{"hit_at_" + std::to_string(c_.hit_k), hit}, {"auc", auc}, {"ndcg_at_" + std::to_string(c_.ndcg_k), ndcg}};
  }
  RankingScorer& scorer_;
  const RankingExamples& train_;
  const RankingEvalSet& eval_;
  const data::NegativeSampler& negatives_;
  const RankingTrainConfig& c_;
};
}  // namespace

RankingTrainResult train_ranking(RankingScorer& scorer, const RankingExamples& train, const RankingEvalSet& eval,
                                 const data::NegativeSampler& negatives, const RankingTrainConfig& c,
                                 TrainerHooks hooks) {
  RankingTask task(scorer, train, eval, negatives, c);
  const std::string hit = "hit_at_" + std::to_string(c.hit_k), ndcg = "ndcg_at_" + std::to_string(c.ndcg_k);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  auto report = [&](const EpochRecord& r) {
    RankingEpochReport e;
    e.epoch = r.epoch;
    e.train_loss = r.train_loss;
    e.seconds = r.seconds;
    e.evaluated = r.evaluated;
    e.hit = r.evaluated ? r.test.at(hit) : nan;
    e.auc = r.evaluated ? r.test.at("auc") : nan;
    e.ndcg = r.evaluated ? r.test.at(ndcg) : nan;
    return e;
  };
  TrainResult t = Trainer(task, c, hooks).fit();
  RankingTrainResult out;
  for (const EpochRecord& r : t.history) out.epochs.push_back(report(r));
  out.train_seconds = t.train_seconds;
  out.examples_per_sec = t.examples_per_sec;
  return out;
}

RankingTrainResult train_neumf(models::NeuMF& model, const data::Interactions& train, const data::Interactions& test,
                               const RankingTrainConfig& c, TrainerHooks hooks) {
  CUREC_CHECK(train.num_users == model.config().num_users && train.num_items == model.config().num_items,
              "train_neumf: the data has ", train.num_users, " users and ", train.num_items,
              " items but the model was built for ", model.config().num_users, " and ", model.config().num_items);
  RankingExamples ex;
  ex.users = train.users_tensor(c.device);
  ex.positives = train.items_tensor(c.device);
  data::NegativeSampler neg = data::NegativeSampler::from_csr(data::csr_by_user(train), 1, c.seed, c.device);
  NeuMFScorer scorer(model);
  return train_ranking(scorer, ex, RankingEvalSet::from(train, test, c.device), neg, c, std::move(hooks));
}

RankingTrainResult train_caser(models::Caser& model, const data::Interactions& train, const data::Interactions& test,
                               const RankingTrainConfig& c, TrainerHooks hooks) {
  const models::CaserConfig& mc = model.config();
  CUREC_CHECK(train.num_users == mc.num_users && train.num_items == mc.num_items, "train_caser: the data has ",
              train.num_users, " users and ", train.num_items, " items but the model was built for ", mc.num_users,
              " and ", mc.num_items);
  data::SequenceData seq = data::make_sequences(train, mc.L);
  CUREC_CHECK(seq.size() > 0, "train_caser: no user has more than L = ", mc.L,
              " training items, so there is no window to train on");
  RankingExamples ex;
  ex.users = seq.users.to(c.device);
  ex.positives = seq.targets.to(c.device);
  ex.context = seq.sequences.to(c.device);
  data::NegativeSampler neg = data::sequence_negatives(train, 1, c.seed, c.device);
  CaserScorer scorer(model, seq.test_sequences.to(c.device));
  return train_ranking(scorer, ex, RankingEvalSet::from(train, test, c.device), neg, c, std::move(hooks));
}

}  // namespace curec::train
