#pragma once
// Streams host-resident columns to the device batch by batch, for data that does not fit on
// the device: batch b+1 is gathered into pinned host memory and copied on a side stream while
// the compute stream works on batch b. The gather itself is queued on the side stream (a host
// function), behind the copy that last read the same pinned buffer, so the host never waits:
// two buffers, ordered by the stream and by CUDA events. On the CPU it hands out the host rows
// themselves. The columns must not change while the Prefetcher is alive (they are read later,
// on CUDA's callback thread).
#include <cstdint>
#include <memory>
#include <vector>

#include "core/tensor.h"

namespace curec::data {

class Prefetcher {
 public:
  // columns: CPU tensors with equal dim 0 (the samples). Batches are consecutive rows, or rows
  // in the order set by start_epoch; the last batch may be smaller unless drop_last.
  Prefetcher(std::vector<Tensor> columns, int64_t batch_size, Device device, bool drop_last = false);
  ~Prefetcher();
  Prefetcher(const Prefetcher&) = delete;
  Prefetcher& operator=(const Prefetcher&) = delete;

  // Restarts at batch 0; `order` (host sample indices, e.g. a permutation) picks the rows each
  // batch gathers; empty means 0..n-1.
  void start_epoch(std::vector<int64_t> order = {});
  // The next batch's columns on the device, ready for work queued on the current stream;
  // false after the last batch. Tensors handed out stay valid while the caller holds them.
  bool next(std::vector<Tensor>& batch);

  int64_t num_batches() const;
  int64_t num_samples() const { return n_; }

 private:
  struct Slot;
  int64_t rows_of_batch(int64_t b) const;
  void stage(int64_t b, Slot& slot);  // gathers batch b into the slot and queues its copy
  void release(Slot& slot);           // drops a staged batch that was not handed out

  std::vector<Tensor> columns_;
  std::vector<int64_t> row_bytes_;
  int64_t n_, batch_size_;
  Device device_;
  bool drop_last_;
  std::shared_ptr<const std::vector<int64_t>> order_;  // shared with gathers still queued
  int64_t next_batch_ = 0;
  std::unique_ptr<Slot> slots_[2];
  // cudaStream_t, kept opaque so this header needs no CUDA (unused without the CUDA backend).
  [[maybe_unused]] void* side_stream_ = nullptr;
};

}  // namespace curec::data
