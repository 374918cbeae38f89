#include "train/rating_trainer.h"

#include <chrono>
#include <cmath>
#include <memory>

#include "core/autograd.h"
#include "data/batch_sampler.h"
#include "data/take.h"
#include "models/mf.h"
#include "nn/adam.h"
#include "nn/sgd.h"
#include "ops/elementwise.h"
#include "ops/loss.h"
#include "ops/mf_step.h"
#include "train/metrics.h"

namespace curec::train {

RatingColumns RatingColumns::from(const data::Interactions& d, Device device) {
  auto n = static_cast<int64_t>(d.size());
  RatingColumns c;
  c.users = Tensor::from_vector(d.user, {n}, device);
  c.items = Tensor::from_vector(d.item, {n}, device);
  c.ratings = Tensor::from_vector(d.rating, {n}, device);
  return c;
}

double evaluate_rmse(models::RatingModel& model, const RatingColumns& rows, int64_t batch_size) {
  CUREC_CHECK(rows.size() > 0, "evaluate_rmse: no rows to evaluate");
  NoGradGuard ng;
  bool was_training = model.is_training();
  model.eval();
  DeviceMean se;
  for (int64_t start = 0; start < rows.size(); start += batch_size) {
    int64_t len = std::min(batch_size, rows.size() - start);
    Tensor pred = model.predict(rows.users.rows(start, len), rows.items.rows(start, len));
    se.add(squared_error_sum(pred, rows.ratings.rows(start, len)), len);
  }
  model.train(was_training);
  return std::sqrt(se.value());
}

namespace {
std::unique_ptr<nn::Optimizer> make_optimizer(models::RatingModel& model, const RatingTrainConfig& c) {
  if (c.optimizer == "adam") {
    nn::AdamOptions o;
    o.lr = c.lr;
    o.weight_decay = c.weight_decay;
    return std::make_unique<nn::Adam>(model.parameters(), o);
  }
  if (c.optimizer == "sgd") {
    nn::SgdOptions o;
    o.lr = c.lr;
    o.momentum = c.momentum;
    o.weight_decay = c.weight_decay;
    return std::make_unique<nn::SGD>(model.parameters(), o);
  }
  CUREC_FAIL("unknown optimizer '", c.optimizer, "': use adam or sgd");
}

// The fused MF step's state: the four gradient buffers, views of one allocation zeroed with a
// single fill per step and installed as the tables' gradients, and the epoch's loss sum, all
// kept across steps so a step allocates nothing.
class FusedMfStep {
 public:
  explicit FusedMfStep(const models::MatrixFactorization& m)
      : tables_{m.user_factors(), m.item_factors(), m.user_bias(), m.item_bias()} {
    CUREC_CHECK(!m.config().sparse_grad, "fused MF training makes dense gradients, but the model was built with ",
                "sparse_grad; turn off one of the two");
    int64_t total = 0;
    for (const Tensor& t : tables_) total += t.numel();
    const Device device = tables_[0].device();
    flat_ = Tensor::zeros({total}, DType::f32, device);
    int64_t offset = 0;
    for (const Tensor& t : tables_) {
      grads_.push_back(flat_.rows(offset, t.numel()).view(t.shape()));
      offset += t.numel();
    }
    loss_sum_ = Tensor::zeros({1}, DType::f32, device);
  }

  // Gradients of the batch's mean loss installed on the tables; the batch's loss sum added on the device.
  void run(const Tensor& users, const Tensor& items, const Tensor& ratings) {
    flat_.zero_();
    mf_fused_step(tables_[0], tables_[1], tables_[2], tables_[3], users, items, ratings, grads_[0], grads_[1],
                  grads_[2], grads_[3], loss_sum_);
    for (size_t k = 0; k < tables_.size(); ++k) tables_[k].set_grad(grads_[k]);
  }

  // The loss summed since the last call (one host sync), and a fresh sum.
  double take_loss_sum() {
    double v = loss_sum_.item();
    loss_sum_.zero_();
    return v;
  }

 private:
  std::vector<Tensor> tables_, grads_;
  Tensor flat_, loss_sum_;
};
}  // namespace

RatingTrainResult train_rating_model(models::RatingModel& model, const data::Interactions& train,
                                     const data::Interactions& test, const RatingTrainConfig& c,
                                     const EpochCallback& on_epoch) {
  CUREC_CHECK(train.size() > 0, "train_rating_model: the training set is empty");
  CUREC_CHECK(c.epochs > 0 && c.batch_size > 0, "train_rating_model: epochs and batch size must be positive");
  model.to(c.device);
  model.train();
  RatingColumns tr = RatingColumns::from(train, c.device);
  RatingColumns te = test.size() ? RatingColumns::from(test, c.device) : RatingColumns{};
  auto opt = make_optimizer(model, c);
  std::unique_ptr<FusedMfStep> fused;
  if (c.fused) {
    auto* mf = dynamic_cast<models::MatrixFactorization*>(&model);
    CUREC_CHECK(mf, "fused training is implemented for matrix factorization only, not '", model.name(),
                "'; leave fused off for this model");
    fused = std::make_unique<FusedMfStep>(*mf);
  }
  data::BatchSampler sampler(tr.size(), c.batch_size, /*shuffle=*/true, data::LastBatch::rollover, c.seed, c.device);

  RatingTrainResult result;
  int64_t examples = 0;
  using clock = std::chrono::steady_clock;
  for (int epoch = 1; epoch <= c.epochs; ++epoch) {
    auto t0 = clock::now();
    DeviceMean loss_mean;
    int64_t epoch_examples = 0;
    for (const Tensor& idx : sampler.next_epoch()) {
      Tensor u = data::take_rows(tr.users, idx), i = data::take_rows(tr.items, idx);
      Tensor y = data::take_rows(tr.ratings, idx);
      int64_t n = idx.numel();
      if (fused) {
        fused->run(u, i, y);
      } else {
        opt->zero_grad();
        Tensor loss = squared_error(model.predict(u, i), y, Reduction::mean);
        loss.backward();
        loss_mean.add(loss.detach() * static_cast<float>(n), n);
      }
      opt->step();
      epoch_examples += n;
    }
    examples += epoch_examples;
    EpochReport r;
    r.epoch = epoch;
    // The one host sync of the epoch.
    r.train_loss = fused ? fused->take_loss_sum() / static_cast<double>(epoch_examples) : loss_mean.value();
    r.seconds = std::chrono::duration<double>(clock::now() - t0).count();
    result.train_seconds += r.seconds;
    r.test_rmse = te.size() ? evaluate_rmse(model, te) : std::nan("");
    check_not_diverged(r.train_loss, epoch, model.name().c_str());
    result.epochs.push_back(r);
    if (on_epoch) on_epoch(r);
  }
  result.examples_per_sec = result.train_seconds > 0 ? examples / result.train_seconds : 0;
  return result;
}

}  // namespace curec::train
