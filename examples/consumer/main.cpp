// A model of one's own against the installed package: a rating model built from nn modules
// (user and item embeddings, their product and both fed through an MLP), trained by the
// Trainer on planted synthetic ratings, scored against the baseline of predicting the mean,
// saved as a state-dict file and read back into a second model that must score the same.
//   consumer_model [MODEL_FILE] [cpu|cuda[:N]]    (exits 1 unless it learns and round-trips)
#include <cmath>
#include <cstdio>
#include <string>

#include <curec/curec.h>

using namespace curec;

class ProductMlp : public models::RatingModel {
 public:
  // Initialised from the thread's default generator (manual_seed seeds it).
  ProductMlp(int64_t users, int64_t items, int64_t k, float mean) : user_(users, k), item_(items, k), mean_(mean) {
    register_module("user", user_);
    register_module("item", item_);
    head_ = register_module("head", nn::mlp({3 * k, 32, 1}, {.activation = nn::Activation::relu}));
    nn::normal_(user_.weight, 0.0f, 0.1f);
    nn::normal_(item_.weight, 0.0f, 0.1f);
  }
  // users, items: i32 [n] -> predicted ratings f32 [n].
  Tensor forward(const Tensor& users, const Tensor& items) {
    Tensor u = user_(users), v = item_(items);
    return reshape((*head_)(concat({u, v, u * v}, 1)), {users.numel()}) + mean_;
  }
  Tensor predict(const Tensor& users, const Tensor& items) override { return forward(users, items); }
  std::string name() const override { return "product_mlp"; }

 private:
  nn::Embedding user_, item_;
  std::shared_ptr<nn::Sequential> head_;
  float mean_;
};

// The training rows' mean squared error per batch; test RMSE.
class Ratings : public train::Task {
 public:
  Ratings(ProductMlp& model, const data::Split& split) : model_(model), split_(split) {}
  std::string name() const override { return model_.name(); }
  nn::Module& module() override { return model_; }
  void to(Device d) override {
    train_ = train::RatingColumns::from(split_.train, d);
    test_ = train::RatingColumns::from(split_.test, d);
  }
  int64_t num_examples() const override { return static_cast<int64_t>(split_.train.size()); }
  train::BatchLoss loss(const Tensor& idx, const train::StepContext&) override {
    Tensor pred = model_.forward(data::take_rows(train_.users, idx), data::take_rows(train_.items, idx));
    return {squared_error(pred, data::take_rows(train_.ratings, idx), Reduction::mean)};
  }
  std::optional<train::EvalPlan> evaluation(train::EvalPart part) override {
    if (part != train::EvalPart::test) return std::nullopt;
    return train::rating_rmse_plan(model_, test_);
  }
  const train::RatingColumns& test() const { return test_; }

 private:
  ProductMlp& model_;
  const data::Split& split_;
  train::RatingColumns train_, test_;
};

double mean_of(const std::vector<float>& v) {
  double s = 0;
  for (float x : v) s += x;
  return s / static_cast<double>(v.size());
}

int main(int argc, char** argv) try {
  const std::string file = argc > 1 ? argv[1] : "consumer_model.curec";
  const Device device = Device::parse(argc > 2 ? argv[2] : "cpu");
  std::printf("curec %s\n", CUREC_VERSION);
  data::Split split = data::split_random(data::synthetic_ratings({.density = 0.3, .seed = 7}), 0.1, 0);
  const auto mean = static_cast<float>(mean_of(split.train.rating));
  double baseline = 0;  // RMSE of predicting the training mean for every test rating
  for (float r : split.test.rating) baseline += (r - mean) * (r - mean);
  baseline = std::sqrt(baseline / static_cast<double>(split.test.size()));

  manual_seed(0);
  ProductMlp model(split.train.num_users, split.train.num_items, 8, mean);
  Ratings task(model, split);
  train::TrainerConfig config;
  config.epochs = 12;
  config.batch_size = 256;
  config.optimizer = nn::AdamOptions{.lr = 0.01f, .weight_decay = 1e-5f};
  config.device = device;
  const train::TrainResult r = train::Trainer(task, config).fit();
  const double rmse = r.final_test.at("test_rmse");
  std::printf("test RMSE %.4f after %d epochs (predicting the mean: %.4f), train loss %.4f\n", rmse, config.epochs,
              baseline, r.final_train_loss());
  if (!(rmse < 0.5 * baseline)) {
    std::fprintf(stderr, "consumer_model: did not learn: test RMSE %.4f is not below half the mean's %.4f\n", rmse,
                 baseline);
    return 1;
  }

  nn::save_state(file, model.state_dict(), {{"model", model.name()}, {"factors", "8"}});
  ProductMlp loaded(split.train.num_users, split.train.num_items, 8, mean);  // other draws: the file must set every weight
  loaded.load_state_dict(nn::load_state(file).tensors);
  loaded.to(device);
  const double reloaded = train::evaluate_rmse(loaded, task.test());
  std::printf("saved %s; read back: test RMSE %.4f\n", file.c_str(), reloaded);
  if (reloaded != rmse) {
    std::fprintf(stderr, "consumer_model: the model read back from %s scores %.6f, not %.6f\n", file.c_str(), reloaded,
                 rmse);
    return 1;
  }
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "consumer_model: %s\n", e.what());
  return 1;
}
