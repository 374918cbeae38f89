#include <cmath>
#include <set>
#include <utility>
#include <vector>

#include "core/philox.h"
#include "data/split.h"
#include "data/synthetic_sequences.h"
#include "data/take.h"
#include "models/caser.h"
#include "models/neumf.h"
#include "tests/testing.h"
#include "train/tasks/ranking_task.h"
#include "train/trainer.h"

using namespace curec;
using namespace curec::train;

namespace {

// Scores from a fixed [num_users, num_items] matrix.
class FixedScorer : public models::RankingModel {
 public:
  explicit FixedScorer(Tensor scores) : scores_(std::move(scores)) {}
  std::string name() const override { return "fixed"; }
  std::pair<Tensor, Tensor> score_pairs(const Tensor&, const Tensor&, const Tensor&, const Tensor&) override {
    FAIL("not for training");
    return {};
  }
  Tensor score_all_items(const Tensor& users, const Tensor&) override {
    const int64_t items = scores_.size(1);
    std::vector<float> all = scores_.to_vector<float>(), out;
    for (int32_t u : users.to_vector<int32_t>()) out.insert(out.end(), all.begin() + u * items, all.begin() + (u + 1) * items);
    return Tensor::from_vector(out, {users.numel(), items}, users.device());
  }

 private:
  Tensor scores_;
};

// The book's Adam (weight decay 1e-5) at `lr`.
TrainerConfig ranking_config(int epochs, int64_t batch, float lr) {
  TrainerConfig c;
  c.epochs = epochs;
  c.batch_size = batch;
  c.optimizer = nn::AdamOptions{.lr = lr, .weight_decay = 1e-5f};
  return c;
}

// The model trained by the ranking task, its negatives seeded by the run's seed.
TrainResult fit_ranking(models::RankingModel& m, const data::Split& s, const TrainerConfig& c, RankingOptions o) {
  o.seed = c.seed;
  RankingTask task(m, s.train, s.test, o);
  return Trainer(task, c).fit();
}

// Every user gets each item's training count: the popularity baseline.
FixedScorer popularity(const data::Interactions& train) {
  std::vector<float> count(train.num_items, 0.0f), scores;
  for (int32_t i : train.item) count[i] += 1;
  for (int32_t u = 0; u < train.num_users; ++u) scores.insert(scores.end(), count.begin(), count.end());
  return FixedScorer(Tensor::from_vector(scores, {train.num_users, train.num_items}));
}

// Users in 4 groups; group g owns items [25g, 25g + 25) and each user interacts with 12 distinct
// items of their group, one per time step. The held-out (latest) item is one of the 13 group
// items the user has not seen: a model that learns the groups ranks it near the top.
data::Interactions planted_groups(int32_t num_users = 200, uint64_t seed = 1) {
  data::Interactions d;
  d.num_users = num_users;
  d.num_items = 100;
  for (int32_t u = 0; u < num_users; ++u) {
    std::vector<int32_t> items(25);
    for (int32_t j = 0; j < 25; ++j) items[j] = 25 * (u % 4) + j;
    for (int32_t j = 24; j > 0; --j)  // Fisher-Yates from the counter-based RNG
      std::swap(items[j], items[philox::below(seed, 64 * static_cast<uint64_t>(u), j, j + 1)]);
    for (int32_t t = 0; t < 12; ++t) d.push_back(u, items[t], 1.0f, t);
  }
  return d;
}

// Cycle walks without repeated (user, item) pairs: a noise item that the user meets again is dropped.
data::Interactions planted_cycles() {
  data::SyntheticSequenceOptions o;
  o.num_users = 200;
  o.num_items = 200;
  o.num_cycles = 10;  // 20 items per cycle, walks of at most 18 steps never come round
  o.min_length = 12;
  o.max_length = 18;
  o.noise = 0.05f;
  o.seed = 4;
  data::Interactions all = data::synthetic_sequences(o);
  std::set<std::pair<int32_t, int32_t>> seen;
  std::vector<int64_t> keep;
  for (size_t r = 0; r < all.size(); ++r)
    if (seen.insert({all.user[r], all.item[r]}).second) keep.push_back(static_cast<int64_t>(r));
  return all.subset(keep);
}

}  // namespace

TEST_CASE("ranking eval set: training CSR per user and one test item per user (-1 for none)") {
  data::Interactions train, test;
  train.num_users = test.num_users = 3;
  train.num_items = test.num_items = 6;
  train.push_back(0, 3, 1, 0);
  train.push_back(0, 1, 1, 1);
  train.push_back(2, 5, 1, 0);
  test.push_back(0, 4, 1, 2);
  test.push_back(2, 0, 1, 1);
  RankingEvalSet s = RankingEvalSet::from(train, test, Device::cpu());
  CHECK(s.train_row_ptr.to_vector<int64_t>() == std::vector<int64_t>{0, 2, 2, 3});
  CHECK(s.train_cols.to_vector<int32_t>() == std::vector<int32_t>{1, 3, 5});
  CHECK(s.test_items.to_vector<int32_t>() == std::vector<int32_t>{4, -1, 0});
  test.push_back(2, 1, 1, 3);
  CHECK_THROWS_WITH_AS(RankingEvalSet::from(train, test, Device::cpu()), doctest::Contains("more than one test item"),
                       Error);
}

TEST_CASE("evaluate_ranking_model: hand-computed Hit@k, AUC and NDCG@k over items outside the training set") {
  data::Interactions train, test;
  train.num_users = test.num_users = 2;
  train.num_items = test.num_items = 6;
  train.push_back(0, 1, 1, 0);
  train.push_back(0, 3, 1, 1);
  train.push_back(1, 0, 1, 0);
  test.push_back(0, 4, 1, 2);
  test.push_back(1, 2, 1, 1);
  RankingEvalSet s = RankingEvalSet::from(train, test, Device::cpu());
  // User 0: candidates 0, 2, 4, 5 (1 and 3 are training items, scored high but excluded); only
  // item 5 beats the test item 4: rank 1, 2 of 3 others below. User 1: test item 2 is on top.
  FixedScorer scorer(Tensor::from_vector<float>({0.1f, 0.9f, 0.5f, 0.8f, 0.6f, 0.7f, 5, 1, 4, 3, 2, 1.5f}, {2, 6}));
  RankingMetrics r = evaluate_ranking_model(scorer, s, /*hit_k=*/1, /*ndcg_k=*/2, /*chunk_users=*/1);
  CHECK(r.users == 2);
  CHECK(r.hit_at_k == doctest::Approx(0.5));
  CHECK(r.auc == doctest::Approx((2.0 / 3 + 1) / 2));
  CHECK(r.ndcg_at_k == doctest::Approx((1 / std::log2(3.0) + 1) / 2));
  RankingMetrics r2 = evaluate_ranking_model(scorer, s, 2, 2, 5);
  CHECK(r2.hit_at_k == doctest::Approx(1.0));
  CHECK(r2.ndcg_at_k == doctest::Approx(r.ndcg_at_k));
}

TEST_CASE("train_neumf learns planted user groups far better than popularity") {
  data::Split split = data::split_seq_aware(planted_groups());
  TrainerConfig c = ranking_config(30, 256, 0.02f);
  c.eval_every = 0;
  RankingOptions o;
  o.hit_k = 15;
  models::NeuMFConfig mc;
  mc.num_users = 200;
  mc.num_items = 100;
  Generator gen(1);
  models::NeuMF m(mc, gen);
  TrainResult r = fit_ranking(m, split, c, o);
  const double hit = r.final_test.at("hit_at_15"), auc = r.final_test.at("auc");
  FixedScorer pop = popularity(split.train);
  RankingMetrics base = evaluate_ranking_model(pop, RankingEvalSet::from(split.train, split.test, Device::cpu()), 15, 10);
  MESSAGE("neumf planted: hit@15 ", hit, " auc ", auc, "; popularity hit@15 ", base.hit_at_k, " auc ", base.auc);
  CHECK(hit >= 0.8);
  CHECK(hit >= base.hit_at_k + 0.4);
  CHECK(auc >= 0.85);
  CHECK(r.history.back().train_loss < r.history.front().train_loss);
}

TEST_CASE("train_caser predicts the next item of planted cycles far better than popularity") {
  data::Split split = data::split_seq_aware(planted_cycles());
  TrainerConfig c = ranking_config(30, 256, 0.02f);
  c.eval_every = 0;
  RankingOptions o;
  o.hit_k = 3;
  o.ndcg_k = 3;
  models::CaserConfig mc;
  mc.num_users = 200;
  mc.num_items = 200;
  Generator gen(1);
  models::Caser m(mc, gen);
  TrainResult r = fit_ranking(m, split, c, o);
  const double hit = r.final_test.at("hit_at_3");
  FixedScorer pop = popularity(split.train);
  RankingMetrics base = evaluate_ranking_model(pop, RankingEvalSet::from(split.train, split.test, Device::cpu()), 3, 3);
  MESSAGE("caser planted: hit@3 ", hit, " ndcg@3 ", r.final_test.at("ndcg_at_3"), "; popularity hit@3 ", base.hit_at_k);
  CHECK(hit >= 0.6);
  CHECK(hit >= base.hit_at_k + 0.4);
}

TEST_CASE("ranking task: eval_every, hinge loss, rollover counts, metric names and reproducibility") {
  data::Split split = data::split_seq_aware(planted_groups(40, 2));
  models::NeuMFConfig mc;
  mc.num_users = 40;
  mc.num_items = 100;
  TrainerConfig c = ranking_config(5, 64, 0.01f);
  c.eval_every = 2;
  auto run = [&](const TrainerConfig& cfg, RankingOptions o) {
    Generator gen(3);
    models::NeuMF m(mc, gen);
    return fit_ranking(m, split, cfg, o);
  };
  RankingOptions o;
  o.hit_k = 50;
  TrainResult a = run(c, o), b = run(c, o);
  REQUIRE(a.history.size() == 5);
  std::vector<bool> evaluated;
  for (auto& e : a.history) evaluated.push_back(e.evaluated);
  CHECK(evaluated == std::vector<bool>{false, true, false, true, true});
  CHECK(a.history[0].test.empty());
  // The metrics are named for the settings: Hit@50 and NDCG@10 here.
  CHECK(a.final_test.size() == 3);
  CHECK(a.final_test.count("hit_at_50") == 1);
  CHECK(a.final_test.count("ndcg_at_10") == 1);
  CHECK(a.history.back().test == a.final_test);
  for (size_t e = 0; e < 5; ++e) CHECK(a.history[e].train_loss == b.history[e].train_loss);
  CHECK(a.final_test.at("hit_at_50") == b.final_test.at("hit_at_50"));
  // BPR starts at ln 2 (scores ~ 0); the hinge with margin 1 starts at 1.
  CHECK(a.history[0].train_loss == doctest::Approx(std::log(2.0)).epsilon(0.1));
  RankingOptions h = o;
  h.loss = parse_ranking_loss("hinge");
  TrainResult hr = run(c, h);
  CHECK(hr.history[0].train_loss == doctest::Approx(1.0).epsilon(0.1));
  CHECK(hr.history.back().train_loss < hr.history[0].train_loss);
  CHECK_THROWS_AS(parse_ranking_loss("softmax"), Error);
  TrainerConfig bad = c;
  bad.epochs = 0;
  CHECK_THROWS_AS(run(bad, o), Error);
}

TEST_SUITE("cuda") {
  TEST_CASE("train_neumf and train_caser: CUDA follows the CPU run (same batches, negatives and init)") {
    data::Split split = data::split_seq_aware(planted_cycles());
    TrainerConfig c = ranking_config(3, 256, 0.01f);
    c.eval_every = 1;
    RankingOptions o;
    o.hit_k = 10;
    models::NeuMFConfig nc;
    nc.num_users = nc.num_items = 200;
    models::CaserConfig cc;
    cc.num_users = cc.num_items = 200;
    cc.dropout = 0.0f;  // masks match across backends too, but keep the comparison to the math
    for (int model = 0; model < 2; ++model) {
      CAPTURE(model);
      TrainResult r[2];
      for (int dev = 0; dev < 2; ++dev) {
        TrainerConfig cfg = c;
        cfg.device = dev ? Device::cuda(0) : Device::cpu();
        Generator gen(9);
        if (model == 0) {
          models::NeuMF m(nc, gen);
          r[dev] = fit_ranking(m, split, cfg, o);
        } else {
          models::Caser m(cc, gen);
          r[dev] = fit_ranking(m, split, cfg, o);
        }
      }
      for (int e = 0; e < 3; ++e) {
        CHECK(r[1].history[e].train_loss == doctest::Approx(r[0].history[e].train_loss).epsilon(1e-3));
        CHECK(r[1].history[e].test.at("auc") == doctest::Approx(r[0].history[e].test.at("auc")).epsilon(1e-2));
      }
    }
  }
}
