#include "train/rating_trainer.h"

#include <chrono>
#include <cmath>
#include <memory>

#include "core/autograd.h"
#include "data/batch_sampler.h"
#include "data/take.h"
#include "nn/adam.h"
#include "nn/sgd.h"
#include "ops/elementwise.h"
#include "ops/loss.h"
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
  data::BatchSampler sampler(tr.size(), c.batch_size, /*shuffle=*/true, data::LastBatch::rollover, c.seed, c.device);

  RatingTrainResult result;
  int64_t examples = 0;
  using clock = std::chrono::steady_clock;
  for (int epoch = 1; epoch <= c.epochs; ++epoch) {
    auto t0 = clock::now();
    DeviceMean loss_mean;
    for (const Tensor& idx : sampler.next_epoch()) {
      Tensor u = data::take_rows(tr.users, idx), i = data::take_rows(tr.items, idx);
      Tensor y = data::take_rows(tr.ratings, idx);
      opt->zero_grad();
      Tensor loss = squared_error(model.predict(u, i), y, Reduction::mean);
      loss.backward();
      opt->step();
      int64_t n = idx.numel();
      loss_mean.add(loss.detach() * static_cast<float>(n), n);
      examples += n;
    }
    EpochReport r;
    r.epoch = epoch;
    r.train_loss = loss_mean.value();  // the one host sync of the epoch
    r.seconds = std::chrono::duration<double>(clock::now() - t0).count();
    result.train_seconds += r.seconds;
    r.test_rmse = te.size() ? evaluate_rmse(model, te) : std::nan("");
    CUREC_CHECK(std::isfinite(r.train_loss), "training diverged: epoch ", epoch, " loss is ", r.train_loss,
                "; lower the learning rate");
    result.epochs.push_back(r);
    if (on_epoch) on_epoch(r);
  }
  result.examples_per_sec = result.train_seconds > 0 ? examples / result.train_seconds : 0;
  return result;
}

}  // namespace curec::train
