#include "train/ctr_trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <numeric>

#include "core/autograd.h"
#include "data/batch_sampler.h"
#include "data/take.h"
#include "nn/adam.h"
#include "ops/concat.h"
#include "ops/elementwise.h"
#include "ops/loss.h"
#include "train/metrics.h"

namespace curec::train {

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

data::CtrData row_range(const data::CtrData& d, int64_t start, int64_t count) {
  data::CtrData out;
  out.field_dims = d.field_dims;
  out.offsets = d.offsets;
  int64_t F = d.num_fields();
  out.fields.assign(d.fields.begin() + start * F, d.fields.begin() + (start + count) * F);
  out.labels.assign(d.labels.begin() + start, d.labels.begin() + start + count);
  return out;
}

// Device copies of the parameters: keeping the best epoch costs no host round trip.
void snapshot(const std::vector<Tensor>& params, std::vector<Tensor>& into) {
  if (into.empty())
    for (const Tensor& p : params) into.push_back(p.detach().clone());
  else
    for (size_t i = 0; i < params.size(); ++i) into[i].copy_from(params[i]);
}

void restore(const std::vector<Tensor>& params, const std::vector<Tensor>& from) {
  for (size_t i = 0; i < params.size(); ++i) {
    Tensor p = params[i];
    p.copy_from(from[i]);
  }
}

CtrMetrics no_metrics() { return CtrMetrics{kNaN, kNaN, kNaN}; }
}  // namespace

CtrColumns CtrColumns::from(const data::CtrData& d, Device device) {
  CUREC_CHECK(static_cast<int64_t>(d.fields.size()) == d.rows() * d.num_fields(), "CtrColumns: ", d.fields.size(),
              " feature indices do not fill ", d.rows(), " rows of ", d.num_fields(), " fields");
  return CtrColumns{d.fields_tensor(device), d.labels_tensor(device)};
}

std::pair<data::CtrData, data::CtrData> split_tail(const data::CtrData& d, double fraction) {
  CUREC_CHECK(fraction > 0 && fraction < 1, "split_tail: fraction must be in (0, 1), got ", fraction);
  auto tail = static_cast<int64_t>(std::llround(d.rows() * fraction));
  CUREC_CHECK(tail >= 1 && tail < d.rows(), "split_tail: ", d.rows(), " rows are too few to hold out ", fraction,
              " of them (each part needs at least one row)");
  return {row_range(d, 0, d.rows() - tail), row_range(d, d.rows() - tail, tail)};
}

std::vector<float> predict_ctr(models::FactorizationMachine& model, const CtrColumns& rows, int64_t batch_size) {
  CUREC_CHECK(rows.size() > 0 && batch_size > 0, "predict_ctr: needs rows (got ", rows.size(),
              ") and a positive batch size (got ", batch_size, ")");
  NoGradGuard ng;
  bool was_training = model.is_training();
  model.eval();
  std::vector<Tensor> parts;
  for (int64_t start = 0; start < rows.size(); start += batch_size) {
    int64_t len = std::min(batch_size, rows.size() - start);
    parts.push_back(model.predict(rows.fields.rows(start, len)));
  }
  model.train(was_training);
  Tensor all = parts.size() == 1 ? parts[0] : concat(parts, 0);
  return all.to_vector<float>();  // the one host sync of an evaluation
}

double auc(const std::vector<float>& scores, const std::vector<float>& labels) {
  CUREC_CHECK(scores.size() == labels.size(), "auc: ", scores.size(), " scores for ", labels.size(), " labels");
  size_t n = scores.size();
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return scores[a] < scores[b]; });
  double positives = 0, rank_sum = 0;
  for (size_t i = 0; i < n;) {
    size_t j = i;
    while (j < n && scores[order[j]] == scores[order[i]]) ++j;
    double rank = 0.5 * static_cast<double>(i + 1 + j);  // mean of the 1-based ranks i+1..j
    for (size_t t = i; t < j; ++t)
      if (labels[order[t]] > 0.5f) {
        positives += 1;
        rank_sum += rank;
      }
    i = j;
  }
  double negatives = static_cast<double>(n) - positives;
  if (positives == 0 || negatives == 0) return kNaN;
  return (rank_sum - positives * (positives + 1) / 2) / (positives * negatives);
}

CtrMetrics ctr_metrics(const std::vector<float>& p, const std::vector<float>& y) {
  CUREC_CHECK(p.size() == y.size() && !p.empty(), "ctr_metrics: ", p.size(), " probabilities for ", y.size(),
              " labels (need equal, non-zero counts)");
  double correct = 0, ll = 0;
  for (size_t i = 0; i < p.size(); ++i) {
    bool pos = y[i] > 0.5f;
    correct += ((p[i] > 0.5f) == pos) ? 1 : 0;
    double q = std::clamp(static_cast<double>(p[i]), 1e-7, 1 - 1e-7);
    ll -= pos ? std::log(q) : std::log(1 - q);
  }
  auto n = static_cast<double>(p.size());
  return CtrMetrics{correct / n, auc(p, y), ll / n};
}

CtrMetrics evaluate_ctr(models::FactorizationMachine& model, const CtrColumns& rows, int64_t batch_size) {
  return ctr_metrics(predict_ctr(model, rows, batch_size), rows.labels.to_vector<float>());
}

CtrTrainResult train_ctr_model(models::FactorizationMachine& model, const data::CtrData& train_in,
                               const data::CtrData& test, const CtrTrainConfig& c, const CtrEpochCallback& on_epoch) {
  CUREC_CHECK(train_in.rows() > 0, "train_ctr_model: the training set is empty");
  CUREC_CHECK(c.epochs > 0 && c.batch_size > 0, "train_ctr_model: epochs and batch size must be positive, got ",
              c.epochs, " and ", c.batch_size);
  CUREC_CHECK(train_in.num_fields() == model.num_fields(), "train_ctr_model: the data has ", train_in.num_fields(),
              " fields, the model ", model.num_fields());
  data::CtrData train_part, valid_part;
  if (c.early_stop) std::tie(train_part, valid_part) = split_tail(train_in, c.validation_fraction);
  const data::CtrData& train = c.early_stop ? train_part : train_in;

  model.to(c.device);
  model.train();
  CtrColumns tr = CtrColumns::from(train, c.device);
  CtrColumns va = c.early_stop ? CtrColumns::from(valid_part, c.device) : CtrColumns{};
  CtrColumns te = test.rows() ? CtrColumns::from(test, c.device) : CtrColumns{};
  std::vector<float> valid_labels = valid_part.labels, test_labels = test.labels;

  std::vector<Tensor> params = model.parameters();
  nn::AdamOptions ao;
  ao.lr = c.lr;
  ao.weight_decay = c.weight_decay;
  nn::Adam opt(params, ao);
  data::BatchSampler sampler(tr.size(), c.batch_size, /*shuffle=*/true, data::LastBatch::rollover, c.seed, c.device);

  CtrTrainResult result;
  result.train_rows = tr.size();
  result.valid_rows = va.size();
  result.best_valid_auc = kNaN;
  std::vector<Tensor> best;
  int64_t examples = 0;
  using clock = std::chrono::steady_clock;
  for (int epoch = 1; epoch <= c.epochs; ++epoch) {
    auto t0 = clock::now();
    DeviceMean loss_mean;
    for (const Tensor& idx : sampler.next_epoch()) {
      Tensor x = data::take_rows(tr.fields, idx), y = data::take_rows(tr.labels, idx);
      opt.zero_grad();
      Tensor loss = bce_with_logits(model.logits(x), y, Reduction::mean);
      loss.backward();
      opt.step();
      int64_t n = idx.numel();
      loss_mean.add(loss.detach() * static_cast<float>(n), n);
      examples += n;
    }
    CtrEpochReport r;
    r.epoch = epoch;
    r.train_loss = loss_mean.count() ? loss_mean.value() : kNaN;  // the one host sync of training
    r.seconds = std::chrono::duration<double>(clock::now() - t0).count();
    result.train_seconds += r.seconds;
    if (loss_mean.count()) check_not_diverged(r.train_loss, epoch, model.name().c_str());
    r.test = te.size() ? ctr_metrics(predict_ctr(model, te), test_labels) : no_metrics();
    r.valid_auc = kNaN;
    if (c.early_stop) {
      r.valid_auc = auc(predict_ctr(model, va), valid_labels);
      // The first epoch always counts, so a validation slice of one class still restores something.
      if (result.best_epoch == 0 || r.valid_auc > result.best_valid_auc) {
        result.best_epoch = epoch;
        result.best_valid_auc = r.valid_auc;
        NoGradGuard ng;
        snapshot(params, best);
      }
    }
    result.epochs.push_back(r);
    if (on_epoch) on_epoch(r);
  }
  if (c.early_stop) {
    NoGradGuard ng;
    restore(params, best);
    result.final_test = te.size() ? evaluate_ctr(model, te) : no_metrics();
  } else {
    result.best_epoch = c.epochs;
    result.final_test = result.epochs.back().test;
  }
  result.examples_per_sec = result.train_seconds > 0 ? examples / result.train_seconds : 0;
  return result;
}

}  // namespace curec::train
