#include "train/autorec_trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "core/autograd.h"
#include "data/batch_sampler.h"
#include "data/csr.h"
#include "data/take.h"
#include "nn/adam.h"
#include "ops/elementwise.h"
#include "ops/loss.h"
#include "train/metrics.h"

namespace curec::train {

AutoRecMatrices AutoRecMatrices::from(const data::Interactions& train, const data::Interactions& test,
                                      models::AutoRecKind kind, Device device) {
  CUREC_CHECK(train.num_users == test.num_users && train.num_items == test.num_items,
              "autorec: train and test must share their id maps, got ", train.num_users, "x", train.num_items, " and ",
              test.num_users, "x", test.num_items, " users x items; split one data set with data/split.h");
  bool by_item = kind == models::AutoRecKind::item_based;
  AutoRecMatrices m;
  m.train = by_item ? data::dense_item_user(train, device) : data::dense_user_item(train, device);
  m.test = by_item ? data::dense_item_user(test, device) : data::dense_user_item(test, device);
  m.test_count = static_cast<int64_t>(test.size());
  return m;
}

double evaluate_autorec_rmse(models::AutoRec& model, const Tensor& train, const Tensor& test, int64_t test_count,
                             int64_t eval_rows) {
  CUREC_CHECK(test_count > 0, "evaluate_autorec_rmse: no test ratings to evaluate");
  CUREC_CHECK(train.shape() == test.shape(), "evaluate_autorec_rmse: train ", train.str(), " and test ", test.str(),
              " matrices differ in shape");
  NoGradGuard ng;
  bool was_training = model.is_training();
  model.eval();
  Tensor half_se;  // ½ Σ (ŷ − y)² over test entries, on the device
  for (int64_t start = 0; start < train.size(0); start += eval_rows) {
    int64_t len = std::min(eval_rows, train.size(0) - start);
    Tensor part = masked_squared_error(model.forward(train.rows(start, len)), test.rows(start, len), Tensor(),
                                       Reduction::sum);
    half_se = half_se.defined() ? half_se + part : part;
  }
  model.train(was_training);
  return std::sqrt(2.0 * half_se.item() / static_cast<double>(test_count));
}

RatingTrainResult train_autorec(models::AutoRec& model, const data::Interactions& train,
                                const data::Interactions& test, const AutoRecTrainConfig& c,
                                const EpochCallback& on_epoch) {
  CUREC_CHECK(train.size() > 0, "train_autorec: the training set is empty");
  CUREC_CHECK(c.epochs > 0 && c.batch_size > 0 && c.eval_rows > 0,
              "train_autorec: epochs, batch size and eval rows must be positive, got ", c.epochs, ", ", c.batch_size,
              ", ", c.eval_rows);
  model.to(c.device);
  model.train();
  AutoRecMatrices m = AutoRecMatrices::from(train, test, model.config().kind, c.device);
  CUREC_CHECK(m.train.size(1) == model.config().num_inputs, "train_autorec: the model takes ",
              model.config().num_inputs, " inputs per row but the rating matrix has ", m.train.size(1),
              " columns; build it with num_inputs = ", m.train.size(1));
  nn::AdamOptions ao;
  ao.lr = c.lr;
  ao.weight_decay = c.weight_decay;
  nn::Adam opt(model.parameters(), ao);
  int64_t rows = m.train.size(0);
  // Rollover with a batch larger than the data would serve no batch at all.
  data::BatchSampler sampler(rows, std::min(c.batch_size, rows), /*shuffle=*/true, data::LastBatch::rollover, c.seed,
                             c.device);

  RatingTrainResult result;
  int64_t examples = 0;
  using clock = std::chrono::steady_clock;
  for (int epoch = 1; epoch <= c.epochs; ++epoch) {
    auto t0 = clock::now();
    DeviceMean loss_mean;
    for (const Tensor& idx : sampler.next_epoch()) {
      int64_t n = idx.numel();
      Tensor x = data::take_rows(m.train, idx);
      opt.zero_grad();
      // Mean over the batch of each row's ½ Σ_observed (ŷ − y)².
      Tensor loss = masked_squared_error(model.forward(x), x, Tensor(), Reduction::sum) * (1.0f / n);
      loss.backward();
      opt.step();
      loss_mean.add(loss.detach() * static_cast<float>(n), n);
      examples += n;
    }
    EpochReport r;
    r.epoch = epoch;
    r.train_loss = loss_mean.value();  // the one host sync of the epoch
    r.seconds = std::chrono::duration<double>(clock::now() - t0).count();
    result.train_seconds += r.seconds;
    check_not_diverged(r.train_loss, epoch, "autorec");
    r.test_rmse = m.test_count ? evaluate_autorec_rmse(model, m.train, m.test, m.test_count, c.eval_rows)
                               : std::nan("");
    result.epochs.push_back(r);
    if (on_epoch) on_epoch(r);
  }
  result.examples_per_sec = result.train_seconds > 0 ? examples / result.train_seconds : 0;
  return result;
}

}  // namespace curec::train
