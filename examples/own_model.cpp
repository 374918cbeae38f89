// Write your own model: a Module whose layers are members, a forward that reads like the math,
// and the library's rating trainer does the rest (device, Adam, shuffled batches, device-side
// loss sums, test RMSE, the divergence guard). The model, NeuMF's generalised MF with biases:
//   ŷ(u, i) = wᵀ(p_u ⊙ q_i) + b + b_u + b_i + 3.5
//   own_model [cpu|cuda[:N]] [RANKS]   (planted low-rank ratings; exits 1 unless it learns them)
// With RANKS > 1 the same code trains data-parallel on RANKS in-process ranks (CPU threads, or
// GPUs 0..RANKS-1): each rank builds the model, takes its share of every batch, and the
// gradients are averaged between backward and the optimizer step.
#include <cstdio>
#include <string>

#include <curec/curec.h>

using namespace curec;

class BiasedGmf : public models::RatingModel {
 public:
  BiasedGmf(int64_t users, int64_t items, int64_t k)
      : p_(users, k), q_(items, k), b_user_(users, 1), b_item_(items, 1), w_(k, 1, {.bias = true}) {
    register_module("user", p_);
    register_module("item", q_);
    register_module("user_bias", b_user_);
    register_module("item_bias", b_item_);
    register_module("out", w_);
    for (nn::Embedding* e : {&p_, &q_, &b_user_, &b_item_}) nn::normal_(e->weight, 0.0f, 0.1f);  // products start near 0
  }
  // users, items: i32 [n] -> predicted ratings f32 [n].
  Tensor predict(const Tensor& u, const Tensor& i) override {
    Tensor score = w_(p_(u) * q_(i)) + b_user_(u) + b_item_(i);
    return reshape(score, {u.numel()}) + 3.5f;  // centred on a typical rating
  }
  std::string name() const override { return "biased_gmf"; }

 private:
  nn::Embedding p_, q_, b_user_, b_item_;
  nn::Linear w_;
};

// Trains a fresh model on `split`; with a communicator, as one rank of a data-parallel group.
train::TrainResult train_model(const data::Split& split, Device device, dist::Communicator* comm) {
  manual_seed(0);  // layers draw their init from this thread's default generator: every rank builds the same model
  BiasedGmf model(split.train.num_users, split.train.num_items, 8);
  train::TrainerConfig config;
  config.epochs = 10;
  config.batch_size = 256;  // the global batch: each of N ranks takes its share of it
  config.optimizer = nn::AdamOptions{.lr = 0.01f, .weight_decay = 1e-5f};
  config.device = device;
  train::TrainerHooks hooks;
  hooks.on_epoch = [](const train::EpochRecord& r) {
    if (r.epoch % 5 == 0) std::printf("epoch %d: train loss %.4f, test RMSE %.4f\n", r.epoch, r.train_loss, r.test.at("test_rmse"));
  };
  if (comm) {
    train::DataParallel dp = train::data_parallel(*comm, hooks);  // rank 0 alone prints
    config.sharding = dp.sharding;
    hooks = dp.hooks;
  }
  train::RatingTask task(model, split.train, split.test);  // ½(ŷ − y)² per batch, test RMSE
  return train::Trainer(task, config, hooks).fit();
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
  std::printf("test RMSE %.4f, %.0f examples/s on %d rank(s)\n", rmse, r.examples_per_sec, ranks);
  return rmse < 0.3 ? 0 : 1;  // the planted ratings have noise 0.1; predicting their mean scores ~0.84
} catch (const std::exception& e) {
  std::fprintf(stderr, "own_model: %s\n", e.what());
  return 1;
}
