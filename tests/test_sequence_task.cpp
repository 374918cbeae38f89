// The sequence evaluation (the SASRec paper's 100 sampled negatives, and full ranking) checked
// against hand-computed ranks, and the sequence task training a small model of the test's own
// through the Trainer until it predicts a planted next-item structure.
#include <cmath>
#include <set>
#include <vector>

#include "data/synthetic_sequences.h"
#include "nn/embedding.h"
#include "nn/init.h"
#include "ops/elementwise.h"
#include "ops/matmul.h"
#include "ops/reduce.h"
#include "tests/testing.h"
#include "train/data_parallel.h"
#include "train/distributed/local_ranks.h"
#include "train/sequence_eval.h"
#include "train/tasks/sequence_task.h"
#include "train/trainer.h"

using namespace curec;
using namespace curec::train;

namespace {

// The last column of left-padded sequences [B, T], repeated `times`: [B, times] (host-built: a
// test model need not be sync-free).
Tensor last_items(const Tensor& seqs, int64_t times) {
  const int64_t B = seqs.size(0), T = seqs.size(1);
  std::vector<int64_t> s = seqs.to_vector<int64_t>(), out;
  for (int64_t b = 0; b < B; ++b) out.insert(out.end(), static_cast<size_t>(times), s[b * T + T - 1]);
  return Tensor::from_vector(out, {B, times}, seqs.device());
}

// The smallest next-item model: a position's score for item j is in[item there] · out[j]; the
// whole sequence is summarised by its last item. Initialised from its own seed, so that every
// thread builds the same model.
class LastItemModel : public models::SequenceModel {
 public:
  LastItemModel(int64_t num_items, int64_t maxlen, int64_t dim, uint64_t seed = 0)
      : items_(num_items), maxlen_(maxlen), gen_(seed), in_(num_items + 1, dim, {}, gen_),
        out_(num_items + 1, dim, {}, gen_) {
    register_module("in", in_);
    register_module("out", out_);
    nn::normal_(in_.weight, 0.0f, 0.1f, gen_);
    nn::normal_(out_.weight, 0.0f, 0.1f, gen_);
  }
  std::string name() const override { return "last_item"; }
  int64_t max_length() const override { return maxlen_; }
  int64_t num_items() const override { return items_; }
  std::pair<Tensor, Tensor> score_next(const Tensor& seqs, const Tensor& pos, const Tensor& neg) override {
    Tensor h = in_.forward(seqs);
    return {sum(h * out_.forward(pos), 2), sum(h * out_.forward(neg), 2)};
  }
  Tensor score(const Tensor& seqs, const Tensor& candidates) override {
    return sum(in_.forward(last_items(seqs, candidates.size(1))) * out_.forward(candidates), 2);
  }
  Tensor score_all_items(const Tensor& seqs) override {
    Tensor h = in_.forward(last_items(seqs, 1)).view({seqs.size(0), in_.dim()});
    return matmul(h, out_.weight, false, true);
  }

 private:
  int64_t items_, maxlen_;
  Generator gen_;
  nn::Embedding in_, out_;
};

// Every item j scores f(j), whatever the sequence: ranks follow from the ids alone.
class FixedScores : public models::SequenceModel {
 public:
  FixedScores(int64_t num_items, int64_t maxlen, std::function<float(int64_t)> f)
      : items_(num_items), maxlen_(maxlen), f_(std::move(f)) {}
  std::string name() const override { return "fixed"; }
  int64_t max_length() const override { return maxlen_; }
  int64_t num_items() const override { return items_; }
  std::pair<Tensor, Tensor> score_next(const Tensor&, const Tensor&, const Tensor&) override {
    FAIL("not for training");
    return {};
  }
  Tensor score(const Tensor&, const Tensor& candidates) override {
    std::vector<float> s;
    for (int64_t id : candidates.to_vector<int64_t>()) s.push_back(f_(id));
    return Tensor::from_vector(s, candidates.shape());
  }
  Tensor score_all_items(const Tensor& seqs) override {
    std::vector<float> s;
    for (int64_t b = 0; b < seqs.size(0); ++b)
      for (int64_t j = 0; j <= items_; ++j) s.push_back(f_(j));
    return Tensor::from_vector(s, {seqs.size(0), items_ + 1});
  }

 private:
  int64_t items_, maxlen_;
  std::function<float(int64_t)> f_;
};

// Dense ids; sequence id = dense + 1. u0: train [0], valid 1, test 2. u1: train [5], valid 4,
// test 3. u2: one item, not evaluated. u3: train [3, 0], valid 5, test 1.
data::SequenceSplit small_split() {
  return data::split_last_two(data::UserSequences::from_lists({{0, 1, 2}, {5, 4, 3}, {1}, {3, 0, 5, 1}}, 6));
}

// Cycle walks (data/synthetic_sequences.h) split the paper's way.
data::SequenceSplit planted(int32_t users, int32_t items, uint64_t seed, int32_t cycles = 10, float noise = 0.1f) {
  data::SyntheticSequenceOptions so;
  so.num_users = users;
  so.num_items = items;
  so.num_cycles = cycles;
  so.noise = noise;
  so.seed = seed;
  return data::split_last_two(data::user_sequences(data::synthetic_sequences(so)));
}

std::vector<int64_t> row(const Tensor& t, int64_t r) {
  std::vector<int64_t> all = t.to_vector<int64_t>();
  const int64_t w = t.size(1);
  return {all.begin() + r * w, all.begin() + (r + 1) * w};
}

}  // namespace

TEST_CASE("sequence evaluation: inputs, targets and candidates of the paper's protocol") {
  data::SequenceSplit sp = small_split();
  SequenceEvalOptions o;
  SequenceEvalSet test = SequenceEvalSet::make(sp, EvalPart::test, 4, o);
  SequenceEvalSet valid = SequenceEvalSet::make(sp, EvalPart::validation, 4, o);
  CHECK(test.users == std::vector<int32_t>{0, 1, 3});
  CHECK(test.targets == std::vector<int32_t>{3, 4, 2});
  CHECK(valid.targets == std::vector<int32_t>{2, 5, 6});
  // Test input = training sequence + validation item; validation input = training sequence.
  CHECK(row(test.inputs, 2) == std::vector<int64_t>{0, 4, 1, 6});
  CHECK(row(valid.inputs, 2) == std::vector<int64_t>{0, 0, 4, 1});
  CHECK(row(SequenceEvalSet::make(sp, EvalPart::test, 2, o).inputs, 2) == std::vector<int64_t>{1, 6});
  // Full ranking excludes the padding and the history, never the target.
  CHECK(std::vector<int32_t>(test.excluded.begin() + test.excluded_ptr[2], test.excluded.begin() + test.excluded_ptr[3]) ==
        std::vector<int32_t>{0, 1, 4, 6});
  // 1 target + 100 negatives, none of which the user ever chose.
  REQUIRE(test.candidates.size(1) == 101);
  const std::set<int64_t> chosen[] = {{1, 2, 3}, {4, 5, 6}, {1, 2, 4, 6}};
  std::set<int64_t> seen_u0;
  for (int64_t r = 0; r < 3; ++r) {
    std::vector<int64_t> c = row(test.candidates, r);
    CHECK(c[0] == test.targets[r]);
    for (size_t j = 1; j < c.size(); ++j) {
      CHECK(c[j] >= 1);
      CHECK(c[j] <= 6);
      CHECK(chosen[r].count(c[j]) == 0);
      if (r == 0) seen_u0.insert(c[j]);
    }
  }
  CHECK(seen_u0 == std::set<int64_t>{4, 5, 6});  // uniform with replacement: all three appear
  // Keyed by (seed, part, user): another user in the data set changes no one else's candidates,
  // and validation draws differ from test draws.
  data::SequenceSplit more = data::split_last_two(
      data::UserSequences::from_lists({{0, 1, 2}, {5, 4, 3}, {1}, {3, 0, 5, 1}, {2, 3, 4}}, 6));
  SequenceEvalSet test2 = SequenceEvalSet::make(more, EvalPart::test, 4, o);
  CHECK(row(test2.candidates, 0) == row(test.candidates, 0));
  CHECK(row(test2.candidates, 2) == row(test.candidates, 2));
  auto negatives = [](const SequenceEvalSet& s, int64_t r) {
    std::vector<int64_t> c = row(s.candidates, r);
    return std::vector<int64_t>(c.begin() + 1, c.end());
  };
  CHECK(negatives(valid, 0) != negatives(test, 0));
  o.seed = 7;
  CHECK(negatives(SequenceEvalSet::make(sp, EvalPart::test, 4, o), 0) != negatives(test, 0));
}

TEST_CASE("sequence evaluation: HR@10 and NDCG@10 = 1/log2(rank + 2) match hand-computed ranks") {
  data::SequenceSplit sp = small_split();
  SequenceEvalOptions o;
  SequenceEvalSet test = SequenceEvalSet::make(sp, EvalPart::test, 4, o);
  SequenceEvalSet valid = SequenceEvalSet::make(sp, EvalPart::validation, 4, o);
  FixedScores by_id(6, 4, [](int64_t id) { return static_cast<float>(id); });
  // Test, sampled: u0's target 3 is below all its negatives (from {4,5,6}): rank 100, a miss.
  // u1's target 4 is above all of its (from {1,2,3}): rank 0. u3's target 2 is below {3,5}: miss.
  // Full: u0 ranks 3 among {3,4,5,6} (1, 2 are history): rank 3. u1 ranks first among
  // {1,2,3,4}: rank 0. u3 has 3 and 5 above target 2: rank 2.
  Metrics m = sequence_eval_plan(by_id, test, 10, true).run();
  CHECK(m.at("hr_at_10") == doctest::Approx(1.0 / 3));
  CHECK(m.at("ndcg_at_10") == doctest::Approx(1.0 / 3));
  CHECK(m.at("full_hr_at_10") == doctest::Approx(1.0));
  CHECK(m.at("full_ndcg_at_10") == doctest::Approx((1 / std::log2(5.0) + 1 + 1 / std::log2(4.0)) / 3));
  // At k = 3 u0's full rank 3 misses; u3's rank 2 still hits.
  Metrics m3 = sequence_eval_plan(by_id, test, 3, true).run();
  CHECK(m3.at("full_hr_at_3") == doctest::Approx(2.0 / 3));
  CHECK(m3.at("full_ndcg_at_3") == doctest::Approx((1 + 0.5) / 3));
  // Validation: u0's target 2 below {4,5,6}: miss; u1's 5 above {1,2,3}; u3's 6 above {3,5}.
  Metrics v = sequence_eval_plan(by_id, valid, 10, false).run();
  CHECK(v.size() == 2);
  CHECK(v.at("hr_at_10") == doctest::Approx(2.0 / 3));
  CHECK(v.at("ndcg_at_10") == doctest::Approx(2.0 / 3));
  // Reversed scores: ranks by hand once more. u0: target 3 above {4,5,6} (sampled rank 0);
  // full, candidates {3,4,5,6}: rank 0. u3: target 2 above {3,5}: rank 0; u1: target 4 below
  // {1,2,3}: sampled rank 100, full rank 3.
  FixedScores reversed(6, 4, [](int64_t id) { return -static_cast<float>(id); });
  Metrics r = sequence_eval_plan(reversed, test, 10, true).run();
  CHECK(r.at("hr_at_10") == doctest::Approx(2.0 / 3));
  CHECK(r.at("full_ndcg_at_10") == doctest::Approx((1 + 1 / std::log2(5.0) + 1) / 3));
  // Ties rank pessimistically: a constant scorer ranks every target last.
  FixedScores constant(6, 4, [](int64_t) { return 1.0f; });
  Metrics c = sequence_eval_plan(constant, test, 10, true).run();
  CHECK(c.at("hr_at_10") == 0.0);
  CHECK(c.at("full_ndcg_at_10") == doctest::Approx((1 / std::log2(5.0) + 1 / std::log2(5.0) + 0.5) / 3));
  // A NaN score is an error, not a ranking.
  FixedScores nan(6, 4, [](int64_t id) { return id == 5 ? std::nanf("") : 1.0f; });
  CHECK(testing::error_of([&] { sequence_eval_plan(nan, test, 10, true).run(); }).find("scores hold NaN") !=
        std::string::npos);
}

TEST_CASE("sequence evaluation: ranks sharing the users give one rank's values, bit for bit") {
  data::SequenceSplit sp = small_split();
  SequenceEvalSet test = SequenceEvalSet::make(sp, EvalPart::test, 4, {});
  LastItemModel model(6, 4, 8);
  EvalPlan plan = sequence_eval_plan(model, test, 10, true, /*chunk_users=*/2);
  std::vector<double> whole = plan.part(0, 3), parts = plan.part(0, 1), rest = plan.part(1, 2);
  parts.insert(parts.end(), rest.begin(), rest.end());
  CHECK(parts == whole);
  CHECK(whole.size() == 12);
  CHECK(plan.finish(parts) == plan.run());
}

TEST_CASE("the sequence task trains a next-item model through the Trainer to a high HR@10") {
  // Two cycles of 200 items; each user walks one for 10-30 steps. Among the 100 sampled
  // negatives about half share the user's cycle, so knowing the cycle alone gives HR@10 near
  // 0.2: a high HR@10 needs the next item itself.
  data::SequenceSplit sp = planted(300, 400, 5, 2, 0.02f);
  LastItemModel model(400, 20, 16);
  SequenceOptions o;
  o.seed = 1;
  SequenceTask task(model, sp, o);
  CHECK(task.num_examples() == 300);
  TrainerConfig c;
  c.epochs = 40;
  c.batch_size = 32;
  c.optimizer = nn::AdamOptions{.lr = 0.02f};
  c.eval_every = 0;
  c.early_stop = EarlyStopping{"ndcg_at_10", 0};
  Trainer trainer(task, c);
  const Metrics before = trainer.evaluate(EvalPart::test);
  TrainResult r = trainer.fit();
  const Metrics& m = r.final_test;
  INFO("before " << before.at("hr_at_10") << ", after " << m.at("hr_at_10") << " (full " << m.at("full_hr_at_10")
                 << "), loss " << r.history.front().train_loss << " -> " << r.final_train_loss());
  CHECK(before.at("hr_at_10") < 0.3);
  CHECK(m.at("hr_at_10") > 0.9);
  CHECK(m.at("ndcg_at_10") > 0.7);
  CHECK(m.at("full_hr_at_10") > 0.8);
  CHECK(r.best_validation().at("hr_at_10") > 0.9);
  CHECK(r.final_train_loss() < 0.5 * r.history.front().train_loss);
}

TEST_CASE("the sequence loss is a mean over examples: shards weighted by their share give the batch's loss") {
  data::SequenceSplit sp = planted(40, 60, 2);
  LastItemModel model(60, 12, 8);
  SequenceTask task(model, sp);
  task.to(Device::cpu());
  // Padding is masked: every example's loss counts its own positions only.
  const Tensor idx = Tensor::arange(10);
  const float whole = task.loss(idx, {1, 0, 0, 10}).loss.item();
  const float first = task.loss(idx.rows(0, 4), {1, 0, 0, 10}).loss.item();
  const float second = task.loss(idx.rows(4, 6), {1, 0, 4, 10}).loss.item();
  CHECK(whole == doctest::Approx(0.4 * first + 0.6 * second).epsilon(1e-6));
  CHECK(std::isfinite(whole));
  // A model for another catalogue is refused.
  LastItemModel wrong(61, 12, 8);
  CHECK(testing::error_of([&] { SequenceTask t(wrong, sp); }).find("build the model for the data's item count") !=
        std::string::npos);
}

TEST_CASE("data parallel: 2 and 3 in-process ranks train and evaluate the sequence task as one rank does") {
  // Negatives are keyed by the example's place in the global batch and the loss is a mean over
  // examples, so the ranks' shard-weighted gradients are the whole batch's; the evaluation's
  // users are shared out and their values gathered. Batches of 31 leave uneven shards.
  data::SequenceSplit sp = planted(90, 80, 4);
  auto run = [&](int world) {
    std::vector<float> params;
    Metrics test;
    dist::LocalRanks(world).run([&](dist::Communicator& comm) {
      LastItemModel model(80, 10, 8);
      SequenceTask task(model, sp);
      TrainerConfig c;
      c.epochs = 3;
      c.batch_size = 31;
      c.optimizer = nn::SgdOptions{.lr = 0.5f};
      DataParallel dp = data_parallel(comm);
      c.sharding = dp.sharding;
      TrainResult r = Trainer(task, c, dp.hooks).fit();
      if (comm.rank() != 0) return;
      test = r.final_test;
      for (const Tensor& p : model.parameters()) {
        std::vector<float> v = p.to_vector<float>();
        params.insert(params.end(), v.begin(), v.end());
      }
    });
    return std::make_pair(params, test);
  };
  const auto [one, one_test] = run(1);
  for (int world : {2, 3}) {
    CAPTURE(world);
    const auto [many, many_test] = run(world);
    REQUIRE(many.size() == one.size());
    double worst = 0;
    for (size_t k = 0; k < one.size(); ++k) worst = std::max(worst, std::fabs(double(many[k]) - one[k]));
    CHECK(worst < 1e-5);
    REQUIRE(many_test.size() == 4);
    for (const auto& entry : one_test) CHECK(many_test.at(entry.first) == doctest::Approx(entry.second).epsilon(1e-9));
  }
}

TEST_SUITE("cuda") {
  TEST_CASE("the sequence task on CUDA follows the CPU run (same batches, negatives and init)") {
    data::SequenceSplit sp = planted(60, 80, 6);
    TrainResult r[2];
    for (int dev = 0; dev < 2; ++dev) {
      LastItemModel model(80, 10, 8, 3);
      SequenceTask task(model, sp);
      TrainerConfig c;
      c.epochs = 3;
      c.batch_size = 16;
      c.eval_every = 1;
      c.optimizer = nn::AdamOptions{.lr = 0.02f};
      c.device = dev ? Device::cuda(0) : Device::cpu();
      r[dev] = Trainer(task, c).fit();
    }
    for (int e = 0; e < 3; ++e) {
      CAPTURE(e);
      CHECK(r[1].history[e].train_loss == doctest::Approx(r[0].history[e].train_loss).epsilon(1e-3));
      for (const auto& entry : r[0].history[e].test)
        CHECK(r[1].history[e].test.at(entry.first) == doctest::Approx(entry.second).epsilon(2e-2));
    }
  }
}
