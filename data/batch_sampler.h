#pragma once
// Index batches for one pass over n samples, made on the device that trains: an epoch is a
// permutation (or 0..n-1) cut into batches, so a loader slices device-resident columns with
// take_rows and never waits for the host.
#include <cstdint>
#include <vector>

#include "core/generator.h"
#include "core/tensor.h"

namespace curec::data {

// What happens to the n % batch_size samples left at the end of an epoch.
enum class LastBatch {
  rollover,  // carried to the front of the next epoch (MXNet's last_batch='rollover', as the book uses)
  drop,      // discarded
  keep,      // served as a final, smaller batch
};

class BatchSampler {
 public:
  // shuffle draws each epoch's order with core randperm from a generator seeded with `seed`,
  // so a seed gives the same batches on the CPU and on CUDA.
  BatchSampler(int64_t n, int64_t batch_size, bool shuffle, LastBatch last, uint64_t seed,
               Device device = Device::cpu());

  // The next epoch's batches: i64 index tensors on the device (views into one epoch tensor).
  // With rollover, the first batch starts with the previous epoch's leftover samples, so an
  // epoch serves floor((carried + n) / batch_size) batches and every batch is full.
  std::vector<Tensor> next_epoch();

  // The number of batches the next call to next_epoch() returns.
  int64_t batches_per_epoch() const;
  // Samples carried into the next epoch (rollover only; 0 otherwise).
  int64_t carried() const { return carried_.defined() ? carried_.numel() : 0; }

  // Where the sampler stands between two epochs, for checkpoints: the position of its
  // generator and the samples carried into the next epoch (i64 on the CPU; undefined if none).
  struct State {
    uint64_t generator_offset = 0;
    Tensor carried;
  };
  State state() const;
  // Continues from `s` (the same n, batch size, seed and mode as the sampler that gave it).
  void restore(const State& s);

  int64_t size() const { return n_; }
  int64_t batch_size() const { return batch_size_; }
  Device device() const { return device_; }

 private:
  int64_t n_, batch_size_;
  bool shuffle_;
  LastBatch last_;
  Generator gen_;
  Device device_;
  Tensor carried_;  // leftover of the last epoch (rollover)
};

}  // namespace curec::data
