// The one training engine: resume equality for every book model, refused checkpoints, the
// divergence guard, early stopping, sharding, interruption.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include <unistd.h>

#include "data/split.h"
#include "data/synthetic_ctr.h"
#include "data/synthetic_ratings.h"
#include "data/take.h"
#include "models/autorec.h"
#include "models/caser.h"
#include "models/deepfm.h"
#include "models/mf.h"
#include "models/neumf.h"
#include "nn/linear.h"
#include "nn/serialize.h"
#include "ops/loss.h"
#include "tests/testing.h"
#include "train/checkpoint.h"
#include "train/metrics.h"
#include "train/tasks/autorec_task.h"
#include "train/tasks/ctr_task.h"
#include "train/tasks/ranking_task.h"
#include "train/tasks/rating_task.h"
#include "train/trainer.h"

using namespace curec;
using namespace curec::train;
namespace fs = std::filesystem;

namespace {

std::string temp_path(const std::string& name) {
  return (fs::temp_directory_path() / ("curec-trainer-" + std::to_string(::getpid()) + "-" + name)).string();
}

// What a run leaves: every epoch's loss and metrics, and the final parameters.
struct Outcome {
  std::vector<double> numbers;
  nn::StateDict params;
};

// epochs, checkpoint, resume -> the outcome of one run of a freshly built model.
using RunFn = std::function<Outcome(int epochs, const std::string& checkpoint, const std::string& resume)>;

void check_same(const Outcome& a, const Outcome& b) {
  REQUIRE(a.numbers.size() == b.numbers.size());
  for (size_t i = 0; i < a.numbers.size(); ++i) {
    INFO("number ", i);
    CHECK((a.numbers[i] == b.numbers[i] || (std::isnan(a.numbers[i]) && std::isnan(b.numbers[i]))));
  }
  REQUIRE(a.params.size() == b.params.size());
  for (const auto& entry : a.params) {  // no structured binding: INFO's lambda captures it (clang 14)
    const std::string& name = entry.first;
    const Tensor& t = entry.second;
    INFO("parameter ", name);
    REQUIRE(b.params.count(name));
    const Tensor& u = b.params.at(name);
    REQUIRE(t.shape() == u.shape());
    std::vector<float> x = t.to_vector<float>(), y = u.to_vector<float>();
    CHECK(std::memcmp(x.data(), y.data(), x.size() * sizeof(float)) == 0);
  }
}

// 3 epochs straight against 1 epoch, a checkpoint, and a resumed run to 3.
void check_resume(const std::string& model, const RunFn& run) {
  const std::string ck = temp_path(model + ".ckpt");
  Outcome straight = run(3, "", "");
  Outcome first = run(1, ck, "");
  REQUIRE(fs::exists(ck));
  Outcome resumed = run(3, "", ck);
  check_same(straight, resumed);
  // The checkpointed run differs from the straight one (it stopped early): the check can fail.
  CHECK(first.numbers.size() < straight.numbers.size());
  fs::remove(ck);
}

void record(std::vector<double>& out, double loss, const Metrics& m) {
  out.push_back(loss);
  for (const auto& [k, v] : m) out.push_back(v);
}

// Every epoch's loss, test and validation metrics.
void record(std::vector<double>& out, const TrainResult& r) {
  for (const EpochRecord& e : r.history) {
    record(out, e.train_loss, e.test);
    for (const auto& [k, v] : e.validation) out.push_back(v);
  }
}

data::Split rating_split() {
  data::SyntheticRatingsConfig c;
  c.num_users = 60;
  c.num_items = 80;
  c.density = 0.2;
  c.seed = 3;
  return data::split_random(data::synthetic_ratings(c), 0.1, 3);
}

// Users walking item cycles of stride 3 from their own start: no repeats, a learnable order.
data::Split sequence_split() {
  data::Interactions d;
  d.num_users = 40;
  d.num_items = 60;
  for (int32_t u = 0; u < d.num_users; ++u)
    for (int32_t t = 0; t < 12; ++t) d.push_back(u, (u * 7 + t * 3) % d.num_items, 1.0f, t);
  return data::split_seq_aware(d);
}

data::CtrData ctr_rows() {
  data::SyntheticCtrOptions o;
  o.rows = 3000;
  o.seed = 5;
  return data::synthetic_ctr(o).data;
}

// A task of our own with a validation part: y = 2x + noise, fitted by one Linear; the test
// metric is the mean squared error on held-out points.
class LineTask : public Task {
 public:
  explicit LineTask(int64_t n) : layer_(1, 1, {}, gen_) {
    std::vector<float> x, y;
    for (int64_t i = 0; i < n; ++i) {
      x.push_back(static_cast<float>(i % 17) / 17.0f);
      y.push_back(2.0f * x.back() + 0.01f * static_cast<float>((i * 7) % 5));
    }
    x_ = Tensor::from_vector(x, {n, 1});
    y_ = Tensor::from_vector(y, {n, 1});
  }
  std::string name() const override { return "line"; }
  nn::Module& module() override { return layer_; }
  int64_t num_examples() const override { return x_.size(0); }
  BatchLoss loss(const Tensor& idx, const StepContext&) override {
    return {squared_error(layer_.forward(data::take_rows(x_, idx)), data::take_rows(y_, idx), Reduction::mean)};
  }
  // Scored whole (one unit).
  std::optional<EvalPlan> evaluation(EvalPart part) override {
    EvalPlan p;
    p.units = 1;
    p.part = [this, part](int64_t, int64_t) {
      ++evaluations[part == EvalPart::test ? 1 : 0];
      was_training = layer_.is_training();
      // Validation gets worse after epoch 2 by construction, so early stopping must restore epoch 2.
      double mse = squared_error(layer_.forward(x_), y_, Reduction::mean).item();
      if (part == EvalPart::validation) mse = calls_++ == 1 ? 0.0 : 1.0 + calls_;
      return std::vector<double>{mse};
    };
    p.finish = [](const std::vector<double>& v) { return Metrics{{"mse", v.at(0)}}; };
    return p;
  }
  int evaluations[2] = {0, 0};
  bool was_training = true;  // the mode of the last evaluation

 private:
  Generator gen_{4};
  nn::Linear layer_;
  Tensor x_, y_;
  int calls_ = 0;
};

}  // namespace

TEST_CASE("resume: mf gives bitwise the run it continues (generic and fused steps)") {
  data::Split s = rating_split();
  for (bool fused : {false, true}) {
    check_resume(fused ? "mf-fused" : "mf", [&](int epochs, const std::string& ck, const std::string& resume) {
      models::MFConfig mc;
      mc.num_users = s.train.num_users;
      mc.num_items = s.train.num_items;
      mc.factors = 8;
      Generator gen(1);
      models::MatrixFactorization m(mc, gen);
      TrainerConfig c;
      c.epochs = epochs;
      c.batch_size = 37;  // leaves a remainder: the rollover carries samples across the checkpoint
      c.checkpoint = ck;
      c.resume = resume;
      RatingTask task(m, s.train, s.test, fused);
      TrainResult r = Trainer(task, c).fit();
      Outcome o{{}, m.state_dict()};
      record(o.numbers, r);
      return o;
    });
  }
}

TEST_CASE("resume: autorec (dropout generators restored) gives bitwise the same run") {
  data::Split s = rating_split();
  check_resume("autorec", [&](int epochs, const std::string& ck, const std::string& resume) {
    double mean = 0;
    for (float v : s.train.rating) mean += v;
    models::AutoRecConfig mc =
        models::AutoRecConfig::user_based(s.train.num_items, static_cast<float>(mean / s.train.size()), 16);
    mc.seed = 2;
    models::AutoRec m(mc);
    TrainerConfig c;
    c.epochs = epochs;
    c.batch_size = 7;
    c.checkpoint = ck;
    c.resume = resume;
    AutoRecTask task(m, s.train, s.test);
    TrainResult r = Trainer(task, c).fit();
    Outcome o{{}, m.state_dict()};
    record(o.numbers, r);
    return o;
  });
}

TEST_CASE("resume: neumf and caser (negatives keyed by epoch and position) give bitwise the same run") {
  data::Split s = sequence_split();
  for (const std::string model : {"neumf", "caser"}) {
    check_resume(model, [&](int epochs, const std::string& ck, const std::string& resume) {
      TrainerConfig c;
      c.epochs = epochs;
      c.batch_size = 50;
      c.checkpoint = ck;
      c.resume = resume;
      RankingOptions ro;
      ro.hit_k = 5;
      Generator gen(3);
      TrainResult r;
      Outcome o;
      if (model == "neumf") {
        models::NeuMFConfig mc;
        mc.num_users = s.train.num_users;
        mc.num_items = s.train.num_items;
        models::NeuMF m(mc, gen);
        RankingTask task(m, s.train, s.test, ro);
        r = Trainer(task, c).fit();
        o.params = m.state_dict();
      } else {
        models::CaserConfig mc;
        mc.num_users = s.train.num_users;
        mc.num_items = s.train.num_items;
        mc.L = 3;
        models::Caser m(mc, gen);
        RankingTask task(m, s.train, s.test, ro);
        r = Trainer(task, c).fit();
        o.params = m.state_dict();
      }
      record(o.numbers, r);
      return o;
    });
  }
}

TEST_CASE("resume: fm and deepfm (dropout, early-stopping state) give bitwise the same run") {
  const auto halves = data::split_tail(ctr_rows(), 0.2);  // not a structured binding: the lambda below captures it
  const data::CtrData& test = halves.second;
  const auto train_valid = data::split_tail(halves.first, 0.1);
  const data::CtrData& train = train_valid.first;
  const data::CtrData& valid = train_valid.second;
  for (const std::string model : {"fm", "deepfm"}) {
    check_resume(model, [&](int epochs, const std::string& ck, const std::string& resume) {
      TrainerConfig c;
      c.optimizer = nn::AdamOptions{.lr = 0.02f};
      c.epochs = epochs;
      c.batch_size = 256;
      c.checkpoint = ck;
      c.resume = resume;
      c.early_stop = EarlyStopping{"auc"};
      Generator gen(6);
      std::unique_ptr<models::FactorizationMachine> m;
      if (model == "fm")
        m = std::make_unique<models::FactorizationMachine>(models::FMConfig{train.field_dims, 8}, gen);
      else
        m = std::make_unique<models::DeepFM>(models::DeepFMConfig{train.field_dims, 8, {16, 8}, 0.2f}, gen);
      CtrTask task(*m, train, test, valid);
      TrainResult r = Trainer(task, c).fit();
      Outcome o{{}, m->state_dict()};
      record(o.numbers, r);
      o.numbers.push_back(r.best_epoch);
      o.numbers.push_back(r.final_test.at("auc"));
      return o;
    });
  }
}

TEST_CASE("checkpoints: a foreign, other-sized, torn or finished checkpoint is refused with a clear error") {
  data::Split s = rating_split();
  const std::string ck = temp_path("refused.ckpt");
  auto mf_run = [&](int64_t factors, int epochs, const std::string& checkpoint, const std::string& resume,
                    int64_t batch = 64) {
    models::MFConfig mc;
    mc.num_users = s.train.num_users;
    mc.num_items = s.train.num_items;
    mc.factors = factors;
    models::MatrixFactorization m(mc);
    TrainerConfig c;
    c.epochs = epochs;
    c.batch_size = batch;
    c.checkpoint = checkpoint;
    c.resume = resume;
    RatingTask task(m, s.train, s.test);
    Trainer(task, c).fit();
  };
  mf_run(4, 1, ck, "");
  CHECK(testing::error_of([&] { mf_run(6, 3, "", ck); }).find("does not fit this mf model") != std::string::npos);
  CHECK(testing::error_of([&] { mf_run(4, 3, "", ck, 32); }).find("batch size 64") != std::string::npos);
  CHECK(testing::error_of([&] { mf_run(4, 1, "", ck); }).find("already trained 1 epochs") != std::string::npos);
  {  // another model's checkpoint
    double mean = 3.5;
    models::AutoRec a(models::AutoRecConfig::user_based(s.train.num_items, static_cast<float>(mean), 8));
    TrainerConfig c;
    c.epochs = 3;
    c.batch_size = 64;
    c.resume = ck;
    AutoRecTask task(a, s.train, s.test);
    c.batch_size = task.batch_of(c.batch_size);
    CHECK(testing::error_of([&] { Trainer(task, c).fit(); }).find("written by a 'mf' run") !=
          std::string::npos);
  }
  // A torn file (cut short) and a file that is not a checkpoint.
  const std::string torn = temp_path("torn.ckpt");
  {
    std::ifstream in(ck, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), {});
    std::ofstream(torn, std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  }
  CHECK(testing::error_of([&] { mf_run(4, 3, "", torn); }).find(torn) != std::string::npos);
  const std::string model_file = temp_path("model.curec");
  nn::save_state(model_file, {}, {{"model", "mf"}});
  CHECK(testing::error_of([&] { mf_run(4, 3, "", model_file); }).find("not a training checkpoint") !=
        std::string::npos);
  // Writing over a checkpoint leaves no temporary file behind.
  mf_run(4, 1, ck, "");
  for (const auto& e : fs::directory_iterator(fs::temp_directory_path()))
    CHECK(e.path().string().find(fs::path(ck).filename().string() + ".tmp") == std::string::npos);
  for (const std::string& f : {ck, torn, model_file}) fs::remove(f);
}

TEST_CASE("divergence guard: an exploding loss stops the run, naming the epoch and the learning rate") {
  data::Split s = rating_split();
  models::MFConfig mc;
  mc.num_users = s.train.num_users;
  mc.num_items = s.train.num_items;
  models::MatrixFactorization m(mc);
  TrainerConfig c;
  c.epochs = 5;
  c.batch_size = 64;
  c.optimizer = nn::AdamOptions{.lr = 1e6f, .weight_decay = 1e-5f};
  RatingTask task(m, s.train, s.test);
  std::string e = testing::error_of([&] { Trainer(task, c).fit(); });
  MESSAGE(e);
  CHECK(e.find("mf training diverged: epoch ") != std::string::npos);
  CHECK(e.find(", step ") != std::string::npos);
  CHECK(e.find("lower the learning rate") != std::string::npos);
  // A sane run passes the guard.
  models::MatrixFactorization ok(mc);
  c.optimizer = nn::AdamOptions{.lr = 0.01f};
  RatingTask ok_task(ok, s.train, s.test);
  CHECK(testing::error_of([&] { Trainer(ok_task, c).fit(); }).empty());
}

TEST_CASE("early stopping on any task: the best validation epoch is restored, patience stops the run") {
  LineTask task(200);
  TrainerConfig c;
  c.epochs = 8;
  c.batch_size = 16;
  c.optimizer = nn::SgdOptions{.lr = 0.1f};
  c.early_stop = EarlyStopping{"mse", 3};
  std::vector<nn::StateDict> after_epoch;
  TrainerHooks h;
  h.on_epoch = [&](const EpochRecord&) { after_epoch.push_back(task.module().state_dict()); };
  TrainResult r = Trainer(task, c, h).fit();
  CHECK(r.best_epoch == 2);
  CHECK(r.stopped_early);
  CHECK(r.history.size() == 5);  // epochs 3, 4 and 5 did not improve on epoch 2
  nn::StateDict now = task.module().state_dict();
  for (const auto& [k, t] : now) testing::check_close(t, after_epoch.at(1).at(k), 0, 0, k);
  // Validation every epoch, the test part each epoch and once more for the restored model.
  CHECK(task.evaluations[0] == 5);
  CHECK(task.evaluations[1] == 6);
  CHECK(testing::error_of([&] {
          TrainerConfig bad = c;
          bad.early_stop = EarlyStopping{"auc"};
          LineTask t2(50);
          Trainer(t2, bad).fit();
        }).find("the validation metrics are mse") != std::string::npos);
}

TEST_CASE("the trainer refuses settings that would train nothing") {
  LineTask task(20);
  TrainerConfig c;
  c.batch_size = 21;
  CHECK(testing::error_of([&] { Trainer(task, c).fit(); }).find("exceeds the 20 training examples") !=
        std::string::npos);
  c.batch_size = 4;
  c.epochs = 0;
  CHECK(testing::error_of([&] { Trainer(task, c); }).find("epochs must be positive") != std::string::npos);
}

TEST_CASE("shard_of: contiguous shards that cover the batch and differ by at most one") {
  for (int64_t n : {1, 7, 64, 100})
    for (int w : {1, 2, 3, 5}) {
      if (n < w) continue;
      int64_t next = 0;
      for (int r = 0; r < w; ++r) {
        Shard s = shard_of(n, Sharding{r, w});
        CHECK(s.first == next);
        CHECK((s.count == n / w || s.count == n / w + 1));
        next += s.count;
      }
      CHECK(next == n);
    }
}

TEST_CASE("hooks: after_backward sees every step with share 1; should_stop interrupts after the step") {
  LineTask task(64);
  TrainerConfig c;
  c.epochs = 3;
  c.batch_size = 16;
  int seen = 0;
  TrainerHooks h;
  h.after_backward = [&](const StepContext& ctx, double share) {
    CHECK(share == 1.0);
    CHECK(ctx.position == ctx.step * 16);
    ++seen;
  };
  h.should_stop = [&] { return seen == 6; };
  std::string e = testing::error_of([&] { Trainer(task, c, h).fit(); });
  CHECK(e.find("interrupted in epoch 2 at step 2") != std::string::npos);
  CHECK(seen == 6);
}

TEST_CASE("a rank's result counts the whole run's examples: every rank trains its shard of each global batch") {
  for (int world : {1, 3}) {
    LineTask task(64);
    TrainerConfig c;
    c.epochs = 2;
    c.batch_size = 20;  // rollover: full batches only, 3 an epoch (the remainder leads the next epoch)
    c.sharding = {world - 1, world};
    TrainResult r = Trainer(task, c).fit();
    CAPTURE(world);
    CHECK(r.examples == 2 * 3 * 20);  // every rank counts the global batches, not its shard
    CHECK(r.examples_per_sec == doctest::Approx(static_cast<double>(r.examples) / r.train_seconds));
  }
}

namespace {
// LineTask whose test evaluation is cut into points, recording the parts it was asked for.
class SharedEvalTask : public LineTask {
 public:
  using LineTask::LineTask;
  std::optional<EvalPlan> evaluation(EvalPart part) override {
    if (part != EvalPart::test) return std::nullopt;
    EvalPlan p;
    p.units = num_examples();
    p.part = [this](int64_t first, int64_t count) {
      asked.push_back({first, count});
      std::vector<double> out;
      for (int64_t i = first; i < first + count; ++i) out.push_back(static_cast<double>(i));
      return out;
    };
    p.finish = [](const std::vector<double>& all) {
      double s = 0;
      for (double v : all) s += v;
      return Metrics{{"mse", s}, {"units", static_cast<double>(all.size())}};
    };
    return p;
  }
  std::vector<Shard> asked;
};
}  // namespace

TEST_CASE("data-parallel evaluation: a rank scores only its share of the units, and the gathered parts give the metric") {
  SharedEvalTask task(100);
  TrainerConfig c;
  c.epochs = 2;
  c.batch_size = 30;
  c.sharding = {1, 3};
  TrainerHooks h;
  int gathers = 0;
  h.gather = [&](const std::vector<double>& mine) {
    ++gathers;
    // The other ranks' parts, as their own trainers would compute them.
    std::vector<double> all;
    for (int r = 0; r < 3; ++r) {
      if (r == 1) {
        all.insert(all.end(), mine.begin(), mine.end());
        continue;
      }
      Shard s = shard_of(100, Sharding{r, 3});
      for (int64_t i = s.first; i < s.first + s.count; ++i) all.push_back(static_cast<double>(i));
    }
    return all;
  };
  TrainResult r = Trainer(task, c, h).fit();
  const Shard mine = shard_of(100, Sharding{1, 3});
  REQUIRE(!task.asked.empty());
  for (const Shard& s : task.asked) {
    CHECK(s.first == mine.first);
    CHECK(s.count == mine.count);
  }
  CHECK(gathers == static_cast<int>(task.asked.size()));
  CHECK(r.final_test.at("units") == 100);
  CHECK(r.final_test.at("mse") == 99.0 * 100 / 2);
  // One rank: the plan run whole, the same metrics.
  SharedEvalTask alone(100);
  c.sharding = {};
  TrainResult whole = Trainer(alone, c, h).fit();
  REQUIRE(!alone.asked.empty());
  for (const Shard& s : alone.asked) {
    CHECK(s.first == 0);
    CHECK(s.count == 100);
  }
  CHECK(whole.final_test == r.final_test);
}

TEST_CASE("a loop of one's own: Trainer::step over the sampler's batches is fit's epoch, evaluate is in eval mode") {
  TrainerConfig c;
  c.epochs = 2;
  c.batch_size = 16;
  c.seed = 7;
  c.optimizer = nn::SgdOptions{.lr = 0.1f};
  LineTask fitted(64);
  TrainResult r = Trainer(fitted, c).fit();

  LineTask own(64);
  Trainer t(own, c);
  const double before = t.evaluate().at("mse");
  CHECK(!own.was_training);                // scored in eval mode
  CHECK(own.module().is_training());       // and switched back
  data::BatchSampler batches(64, c.batch_size, true, c.last_batch, c.seed, c.device);
  std::vector<double> losses;
  for (int epoch = 1; epoch <= c.epochs; ++epoch) {
    int64_t position = 0, step = 0;
    double sum = 0;
    for (const Tensor& idx : batches.next_epoch()) {
      sum += t.step(idx, StepContext{epoch, step++, position, idx.numel()}).item() * static_cast<double>(idx.numel());
      position += idx.numel();
    }
    losses.push_back(sum / static_cast<double>(position));
  }
  const double after = t.evaluate().at("mse");
  CHECK(after < before);
  CHECK(after == r.final_test.at("mse"));
  for (size_t e = 0; e < losses.size(); ++e) CHECK(losses[e] == doctest::Approx(r.history[e].train_loss).epsilon(1e-6));
  const nn::StateDict a = fitted.module().state_dict(), b = own.module().state_dict();
  for (const auto& [k, v] : a) testing::check_close(v, b.at(k), 0, 0, k);
  // A part the task has no plan for is an error naming it.
  TrainerConfig one = c;
  one.epochs = 1;
  struct NoEval : LineTask {
    using LineTask::LineTask;
    std::optional<EvalPlan> evaluation(EvalPart) override { return std::nullopt; }
  } none(16);
  CHECK(testing::error_of([&] { Trainer(none, one).evaluate(); }).find("no test part") != std::string::npos);
}

TEST_CASE("the direction of a metric follows its name: errors and losses lower, the rest higher") {
  for (const char* m : {"test_rmse", "mse", "logloss", "valid_loss"}) CHECK(lower_is_better(m));
  for (const char* m : {"auc", "hit_at_10", "ndcg_at_10", "accuracy"}) CHECK_FALSE(lower_is_better(m));
}
