#include "data/batch_sampler.h"

#include "core/random.h"

namespace curec::data {

BatchSampler::BatchSampler(int64_t n, int64_t batch_size, bool shuffle, LastBatch last, uint64_t seed,
                           Device device)
    : n_(n), batch_size_(batch_size), shuffle_(shuffle), last_(last), gen_(seed), device_(device) {
  CUREC_CHECK(n > 0, "BatchSampler: needs at least one sample, got n = ", n);
  CUREC_CHECK(batch_size > 0, "BatchSampler: batch_size must be positive, got ", batch_size);
  // drop would never serve a batch, rollover not in its first epoch: both would train nothing.
  CUREC_CHECK(last == LastBatch::keep || batch_size <= n, "the batch size ", batch_size, " exceeds the ", n,
              " training examples, so an epoch would train no step; use a batch size of at most ", n);
}

int64_t BatchSampler::batches_per_epoch() const {
  switch (last_) {
    case LastBatch::drop: return n_ / batch_size_;
    case LastBatch::keep: return (n_ + batch_size_ - 1) / batch_size_;
    case LastBatch::rollover: return (carried() + n_) / batch_size_;
  }
  return 0;
}

BatchSampler::State BatchSampler::state() const {
  return State{gen_.offset(), carried_.defined() ? carried_.cpu() : Tensor()};
}

void BatchSampler::restore(const State& s) {
  const int64_t c = s.carried.defined() ? s.carried.numel() : 0;
  CUREC_CHECK(c == 0 || (last_ == LastBatch::rollover && s.carried.dtype() == DType::i64 && c < batch_size_),
              "BatchSampler::restore: ", c, " carried samples do not fit a sampler of batch size ", batch_size_,
              last_ == LastBatch::rollover ? "" : " that does not roll over");
  gen_.set_offset(s.generator_offset);
  carried_ = c ? s.carried.to(device_) : Tensor();
}

std::vector<Tensor> BatchSampler::next_epoch() {
  Tensor order = shuffle_ ? randperm(n_, gen_, device_) : Tensor::arange(n_, DType::i64, device_);
  if (last_ == LastBatch::rollover && carried() > 0) {
    // Device-to-device copies on the current stream: the leftover, then the new epoch.
    int64_t c = carried();
    Tensor joined = Tensor::empty({c + n_}, DType::i64, device_);
    joined.rows(0, c).copy_from(carried_);
    joined.rows(c, n_).copy_from(order);
    order = joined;
  }
  int64_t total = order.numel();
  int64_t full = total / batch_size_, rest = total % batch_size_;
  std::vector<Tensor> batches;
  batches.reserve(static_cast<size_t>(full + 1));
  for (int64_t b = 0; b < full; ++b) batches.push_back(order.rows(b * batch_size_, batch_size_));
  carried_ = Tensor();
  if (rest > 0) {
    if (last_ == LastBatch::keep) batches.push_back(order.rows(full * batch_size_, rest));
    // A copy, not a view, so the next epoch's buffer does not keep this one alive.
    if (last_ == LastBatch::rollover) carried_ = order.rows(full * batch_size_, rest).clone();
  }
  return batches;
}

}  // namespace curec::data
