// Write your own model: a class of nn modules with a forward, a Task that says how a batch
// becomes a loss and how the model is scored, and the Trainer does the rest (device, Adam,
// shuffled batches, device-side loss sums, divergence guard, checkpoints, early stopping).
// The model: NeuMF's generalised MF with biases: a Linear over the element-wise product of the
// user's and the item's embeddings, plus a bias per user and per item.
//   own_model [cpu|cuda[:N]] [RANKS]   (planted low-rank ratings; exits 1 unless it learns them)
// With RANKS > 1 the same model trains data-parallel on RANKS in-process ranks (CPU threads, or
// GPUs 0..RANKS-1), through train::data_parallel.
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "data/split.h"
#include "data/synthetic_ratings.h"
#include "data/take.h"
#include "nn/embedding.h"
#include "nn/init.h"
#include "nn/linear.h"
#include "ops/elementwise.h"
#include "ops/loss.h"
#include "ops/shape.h"
#include "train/data_parallel.h"
#include "train/distributed/local_ranks.h"
#include "train/trainer.h"

using namespace curec;

class BiasedGmf : public nn::Module {
 public:
  BiasedGmf(int64_t users, int64_t items, int64_t k, Generator& gen)
      : user_(users, k, {}, gen), item_(items, k, {}, gen), user_bias_(users, 1, {}, gen),
        item_bias_(items, 1, {}, gen), out_(k, 1, true, gen) {
    register_module("user", user_);
    register_module("item", item_);
    register_module("user_bias", user_bias_);
    register_module("item_bias", item_bias_);
    register_module("out", out_);
    for (Tensor& w : {std::ref(user_.weight), std::ref(item_.weight), std::ref(user_bias_.weight), std::ref(item_bias_.weight)})
      nn::normal_(w, 0.0f, 0.1f, gen);  // small: the products start near 0
  }
  // users, items: i32 [n] -> predicted ratings f32 [n].
  Tensor forward(const Tensor& users, const Tensor& items) {
    Tensor score = out_(user_(users) * item_(items)) + user_bias_(users) + item_bias_(items);
    return reshape(score, {users.numel()}) + 3.5f;  // centred on a typical rating
  }

 private:
  nn::Embedding user_, item_, user_bias_, item_bias_;
  nn::Linear out_;
};

// Rating rows: the batch's mean squared error; test RMSE.
class RatingRows : public train::Task {
 public:
  RatingRows(BiasedGmf& model, const data::Split& split) : model_(model), split_(split) {}
  std::string name() const override { return "embedding_mlp"; }
  nn::Module& module() override { return model_; }
  void to(Device d) override {
    auto columns = [d](const data::Interactions& part) {
      auto n = static_cast<int64_t>(part.size());
      return std::vector<Tensor>{part.users_tensor(d), part.items_tensor(d), Tensor::from_vector(part.rating, {n}, d)};
    };
    train_ = columns(split_.train);
    test_ = columns(split_.test);
  }
  int64_t num_examples() const override { return static_cast<int64_t>(split_.train.size()); }
  train::BatchLoss loss(const Tensor& idx, const train::StepContext&) override {
    Tensor pred = model_.forward(data::take_rows(train_[0], idx), data::take_rows(train_[1], idx));
    return {squared_error(pred, data::take_rows(train_[2], idx), Reduction::mean)};
  }
  // The test RMSE as one unit (the trainer switches to eval mode around it).
  std::optional<train::EvalPlan> evaluation(train::EvalPart part) override {
    if (part != train::EvalPart::test) return std::nullopt;
    auto half_mse = [this](int64_t, int64_t count) {  // squared_error is ½(ŷ − y)² per row
      if (count == 0) return std::vector<double>{};
      return std::vector<double>{squared_error(model_.forward(test_[0], test_[1]), test_[2], Reduction::mean).item()};
    };
    auto rmse = [](const std::vector<double>& v) { return train::Metrics{{"test_rmse", std::sqrt(2 * v.at(0))}}; };
    return train::EvalPlan{1, half_mse, rmse};
  }

 private:
  BiasedGmf& model_;
  const data::Split& split_;
  std::vector<Tensor> train_, test_;  // users, items, ratings
};

// Trains a fresh model on `split`; with a communicator, as one rank of a data-parallel group
// (train/data_parallel.h): the same code, the shard and hooks added.
train::TrainResult train_model(const data::Split& split, Device device, dist::Communicator* comm) {
  Generator gen(0);
  BiasedGmf model(split.train.num_users, split.train.num_items, 8, gen);
  RatingRows task(model, split);
  train::TrainerConfig config;
  config.epochs = 10;
  config.batch_size = 256;  // the global batch: each of N ranks takes its share of it
  config.optimizer = nn::AdamOptions{.lr = 0.01f, .weight_decay = 1e-5f};
  config.device = device;
  train::TrainerHooks hooks;
  hooks.on_epoch = [](const train::EpochRecord& r) {
    if (r.epoch % 5 == 0) std::printf("epoch %d: train loss %.4f, test RMSE %.4f\n", r.epoch, r.train_loss, r.test.at("test_rmse"));
  };
  if (!comm) return train::Trainer(task, config, hooks).fit();
  train::DataParallel dp = train::data_parallel(*comm, hooks);  // rank 0 alone prints
  config.sharding = dp.sharding;
  return train::Trainer(task, config, dp.hooks).fit();
}

int main(int argc, char** argv) try {
  const Device device = Device::parse(argc > 1 ? argv[1] : "cpu");
  const int ranks = argc > 2 ? std::stoi(argv[2]) : 1;
  data::Split split = data::split_random(data::synthetic_ratings({.density = 0.3}), 0.1, 0);
  train::TrainResult r;
  if (ranks <= 1) {
    r = train_model(split, device, nullptr);
  } else {  // in-process ranks: threads on the CPU, GPUs 0..ranks-1 over NCCL
    dist::LocalRanks(ranks, device).run([&](dist::Communicator& c) {
      train::TrainResult mine = train_model(split, c.device(), &c);
      if (c.rank() == 0) r = mine;
    });
  }
  const double rmse = r.final_test.at("test_rmse");
  std::printf("test RMSE %.4f, %.0f examples/s%s\n", rmse, r.examples_per_sec,
              ranks > 1 ? (" on " + std::to_string(ranks) + " ranks").c_str() : "");
  return rmse < 0.3 ? 0 : 1;  // the planted ratings have noise 0.1; predicting their mean scores ~0.84
} catch (const std::exception& e) {
  std::fprintf(stderr, "own_model: %s\n", e.what());
  return 1;
}
