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
#include "train/autorec_trainer.h"
#include "train/checkpoint.h"
#include "train/ctr_trainer.h"
#include "train/ranking_trainer.h"
#include "train/rating_trainer.h"
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
  void to(Device) override {}
  int64_t num_examples() const override { return x_.size(0); }
  BatchLoss loss(const Tensor& idx, const StepContext&) override {
    return {squared_error(layer_.forward(data::take_rows(x_, idx)), data::take_rows(y_, idx), Reduction::mean)};
  }
  bool has(EvalPart) const override { return true; }
  Metrics evaluate(EvalPart part) override {
    ++evaluations[part == EvalPart::test ? 1 : 0];
    // Validation gets worse after epoch 2 by construction, so early stopping must restore epoch 2.
    double mse = squared_error(layer_.forward(x_), y_, Reduction::mean).item();
    if (part == EvalPart::validation) mse = calls_++ == 1 ? 0.0 : 1.0 + calls_;
    return {{"mse", mse}};
  }
  bool higher_is_better(const std::string&) const override { return false; }
  int evaluations[2] = {0, 0};

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
      RatingTrainConfig c;
      c.epochs = epochs;
      c.batch_size = 37;  // leaves a remainder: the rollover carries samples across the checkpoint
      c.fused = fused;
      c.checkpoint = ck;
      c.resume = resume;
      RatingTrainResult r = train_rating_model(m, s.train, s.test, c);
      Outcome o{{}, m.state_dict()};
      for (const EpochReport& e : r.epochs) record(o.numbers, e.train_loss, {{"rmse", e.test_rmse}});
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
    AutoRecTrainConfig c;
    c.epochs = epochs;
    c.batch_size = 7;
    c.checkpoint = ck;
    c.resume = resume;
    RatingTrainResult r = train_autorec(m, s.train, s.test, c);
    Outcome o{{}, m.state_dict()};
    for (const EpochReport& e : r.epochs) record(o.numbers, e.train_loss, {{"rmse", e.test_rmse}});
    return o;
  });
}

TEST_CASE("resume: neumf and caser (negatives keyed by epoch and position) give bitwise the same run") {
  data::Split s = sequence_split();
  for (const std::string model : {"neumf", "caser"}) {
    check_resume(model, [&](int epochs, const std::string& ck, const std::string& resume) {
      RankingTrainConfig c;
      c.epochs = epochs;
      c.batch_size = 50;
      c.checkpoint = ck;
      c.resume = resume;
      c.hit_k = 5;
      Generator gen(3);
      RankingTrainResult r;
      Outcome o;
      if (model == "neumf") {
        models::NeuMFConfig mc;
        mc.num_users = s.train.num_users;
        mc.num_items = s.train.num_items;
        models::NeuMF m(mc, gen);
        r = train_neumf(m, s.train, s.test, c);
        o.params = m.state_dict();
      } else {
        models::CaserConfig mc;
        mc.num_users = s.train.num_users;
        mc.num_items = s.train.num_items;
        mc.L = 3;
        models::Caser m(mc, gen);
        r = train_caser(m, s.train, s.test, c);
        o.params = m.state_dict();
      }
      for (const RankingEpochReport& e : r.epochs) record(o.numbers, e.train_loss, {{"hit", e.hit}, {"auc", e.auc}});
      return o;
    });
  }
}

TEST_CASE("resume: fm and deepfm (dropout, early-stopping state) give bitwise the same run") {
  const auto halves = split_tail(ctr_rows(), 0.2);  // not a structured binding: the lambda below captures it
  const data::CtrData& train = halves.first;
  const data::CtrData& test = halves.second;
  for (const std::string model : {"fm", "deepfm"}) {
    check_resume(model, [&](int epochs, const std::string& ck, const std::string& resume) {
      CtrTrainConfig c;
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
      CtrTrainResult r = train_ctr_model(*m, train, test, c);
      Outcome o{{}, m->state_dict()};
      for (const CtrEpochReport& e : r.epochs) record(o.numbers, e.train_loss, {{"auc", e.test.auc}, {"v", e.valid_auc}});
      o.numbers.push_back(r.best_epoch);
      o.numbers.push_back(r.final_test.auc);
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
    RatingTrainConfig c;
    c.epochs = epochs;
    c.batch_size = batch;
    c.checkpoint = checkpoint;
    c.resume = resume;
    train_rating_model(m, s.train, s.test, c);
  };
  mf_run(4, 1, ck, "");
  CHECK(testing::error_of([&] { mf_run(6, 3, "", ck); }).find("does not fit this mf model") != std::string::npos);
  CHECK(testing::error_of([&] { mf_run(4, 3, "", ck, 32); }).find("batch size 64") != std::string::npos);
  CHECK(testing::error_of([&] { mf_run(4, 1, "", ck); }).find("already trained 1 epochs") != std::string::npos);
  {  // another model's checkpoint
    double mean = 3.5;
    models::AutoRec a(models::AutoRecConfig::user_based(s.train.num_items, static_cast<float>(mean), 8));
    AutoRecTrainConfig c;
    c.epochs = 3;
    c.batch_size = 64;
    c.resume = ck;
    CHECK(testing::error_of([&] { train_autorec(a, s.train, s.test, c); }).find("written by a 'mf' run") !=
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
  RatingTrainConfig c;
  c.epochs = 5;
  c.batch_size = 64;
  nn::learning_rate(c.optimizer) = 1e6f;
  std::string e = testing::error_of([&] { train_rating_model(m, s.train, s.test, c); });
  MESSAGE(e);
  CHECK(e.find("mf training diverged: epoch ") != std::string::npos);
  CHECK(e.find(", step ") != std::string::npos);
  CHECK(e.find("lower the learning rate") != std::string::npos);
  // A sane run passes the guard.
  models::MatrixFactorization ok(mc);
  c.optimizer = nn::AdamOptions{.lr = 0.01f};
  CHECK(testing::error_of([&] { train_rating_model(ok, s.train, s.test, c); }).empty());
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
  CHECK(task.evaluations[1] == 0);  // never the whole evaluation
  CHECK(r.final_test.at("units") == 100);
  CHECK(r.final_test.at("mse") == 99.0 * 100 / 2);
  // One rank, or no gather hook: the whole evaluation, as before.
  SharedEvalTask alone(100);
  c.sharding = {};
  Trainer(alone, c, h).fit();
  CHECK(alone.asked.empty());
  CHECK(alone.evaluations[1] > 0);
}
