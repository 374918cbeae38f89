#include "data/prefetch.h"

#include <algorithm>
#include <cstring>

#include "core/allocator.h"
#if CUREC_WITH_CUDA
#include "core/cuda_context.h"
#endif

namespace curec::data {

struct Prefetcher::Slot {
  std::vector<PinnedBuffer> host;  // one staging buffer per column
  std::vector<Tensor> device;      // the batch being copied into / handed out
  int64_t batch = -1;              // which batch the slot holds
#if CUREC_WITH_CUDA
  cudaEvent_t copied = nullptr;    // the slot's host->device copies are done
  cudaEvent_t ready = nullptr;     // the compute stream's position when the copy was queued
#endif
};

namespace {

// Gathers rows [start, start + rows) of the columns (in `order` when it is not empty) into the
// pinned buffers. Plain host code: it also runs as a CUDA host function, so it makes no CUDA call.
void gather_batch(const std::vector<const char*>& src, const std::vector<int64_t>& row_bytes,
                 const std::vector<char*>& dst, const std::vector<int64_t>& order, int64_t start, int64_t rows) {
  for (size_t c = 0; c < src.size(); ++c) {
    const int64_t rb = row_bytes[c];
    if (order.empty()) {
      std::memcpy(dst[c], src[c] + start * rb, static_cast<size_t>(rows * rb));
    } else {
      for (int64_t r = 0; r < rows; ++r) std::memcpy(dst[c] + r * rb, src[c] + order[start + r] * rb, rb);
    }
  }
}

#if CUREC_WITH_CUDA
struct GatherTask {
  std::vector<const char*> src;
  std::vector<int64_t> row_bytes;
  std::vector<char*> dst;
  std::shared_ptr<const std::vector<int64_t>> order;  // keeps this epoch's order alive
  int64_t start, rows;
};

void CUDART_CB run_gather(void* arg) {
  std::unique_ptr<GatherTask> t(static_cast<GatherTask*>(arg));
  gather_batch(t->src, t->row_bytes, t->dst, *t->order, t->start, t->rows);
}
#endif

}  // namespace

Prefetcher::Prefetcher(std::vector<Tensor> columns, int64_t batch_size, Device device, bool drop_last)
    : columns_(std::move(columns)), batch_size_(batch_size), device_(device), drop_last_(drop_last) {
  CUREC_CHECK(!columns_.empty(), "Prefetcher: needs at least one column");
  CUREC_CHECK(batch_size > 0, "Prefetcher: batch_size must be positive, got ", batch_size);
  n_ = columns_[0].dim() >= 1 ? columns_[0].size(0) : 0;
  for (const Tensor& c : columns_) {
    CUREC_CHECK(c.defined() && !c.is_cuda() && c.dim() >= 1 && c.size(0) == n_,
                "Prefetcher: columns must be CPU tensors with the same number of rows (", n_, "), got ",
                c.defined() ? c.str() : std::string("an undefined tensor"));
    row_bytes_.push_back(n_ ? static_cast<int64_t>(c.nbytes()) / n_ : 0);
  }
  if (device_.is_cuda()) {
#if CUREC_WITH_CUDA
    curec::cuda::DeviceGuard g(device_.index);
    cudaStream_t s;
    CUREC_CUDA_CHECK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
    side_stream_ = s;
    for (auto& slot : slots_) {
      slot = std::make_unique<Slot>();
      CUREC_CUDA_CHECK(cudaEventCreateWithFlags(&slot->copied, cudaEventDisableTiming));
      CUREC_CUDA_CHECK(cudaEventCreateWithFlags(&slot->ready, cudaEventDisableTiming));
      for (int64_t rb : row_bytes_) slot->host.emplace_back(static_cast<size_t>(rb * batch_size_));
    }
#else
    CUREC_FAIL("Prefetcher: ", device_.str(), " requested but curec was built without CUDA");
#endif
  }
  start_epoch();
}

Prefetcher::~Prefetcher() {
#if CUREC_WITH_CUDA
  if (side_stream_) {
    // Destructors must not throw: wait for pending gathers and copies out of the pinned buffers,
    // ignoring errors.
    curec::cuda::DeviceGuard g(device_.index);
    curec::cuda::count_host_sync(device_.index);
    cudaStreamSynchronize(static_cast<cudaStream_t>(side_stream_));
    for (auto& slot : slots_) {
      if (slot && slot->copied) cudaEventDestroy(slot->copied);
      if (slot && slot->ready) cudaEventDestroy(slot->ready);
    }
    cudaStreamDestroy(static_cast<cudaStream_t>(side_stream_));
  }
#endif
}

int64_t Prefetcher::num_batches() const {
  return drop_last_ ? n_ / batch_size_ : (n_ + batch_size_ - 1) / batch_size_;
}

int64_t Prefetcher::rows_of_batch(int64_t b) const {
  int64_t start = b * batch_size_;
  return std::min(batch_size_, n_ - start);
}

void Prefetcher::start_epoch(std::vector<int64_t> order) {
  CUREC_CHECK(order.empty() || static_cast<int64_t>(order.size()) == n_, "Prefetcher::start_epoch: order has ",
              order.size(), " indices for ", n_, " samples");
  for (int64_t i : order)
    CUREC_CHECK(i >= 0 && i < n_, "Prefetcher::start_epoch: index ", i, " out of range for ", n_, " samples");
  order_ = std::make_shared<const std::vector<int64_t>>(std::move(order));
  next_batch_ = 0;
  for (auto& slot : slots_)
    if (slot) release(*slot);
  if (device_.is_cuda() && num_batches() > 0) stage(0, *slots_[0]);
}

void Prefetcher::release(Slot& slot) {
#if CUREC_WITH_CUDA
  if (!slot.device.empty()) {
    // A staged batch nobody took: its copy may still be in flight on the side stream. The
    // caching allocator reuses freed blocks in compute-stream order, so order the compute
    // stream after the copy before the tensors go back.
    curec::cuda::DeviceGuard g(device_.index);
    CUREC_CUDA_CHECK(cudaStreamWaitEvent(curec::cuda::current_stream(device_.index), slot.copied, 0));
    slot.device.clear();
  }
#endif
  slot.batch = -1;
}

void Prefetcher::stage(int64_t b, Slot& slot) {
#if CUREC_WITH_CUDA
  curec::cuda::DeviceGuard g(device_.index);
  cudaStream_t side = static_cast<cudaStream_t>(side_stream_);
  cudaStream_t compute = curec::cuda::current_stream(device_.index);
  int64_t rows = rows_of_batch(b), start = b * batch_size_;
  // The gather into the pinned buffers goes on the side stream, so it runs after this slot's
  // previous copy (batch b-2) has read them: no host wait.
  auto task = std::make_unique<GatherTask>();
  for (size_t c = 0; c < columns_.size(); ++c) {
    task->src.push_back(static_cast<const char*>(columns_[c].raw_data()));
    task->dst.push_back(static_cast<char*>(slot.host[c].data()));
  }
  task->row_bytes = row_bytes_;
  task->order = order_;
  task->start = start;
  task->rows = rows;
  CUREC_CUDA_CHECK(cudaLaunchHostFunc(side, run_gather, task.get()));
  task.release();  // run_gather owns it now
  // Fresh device tensors come from the caching allocator, which orders reuse on the compute
  // stream; the side stream waits for the compute stream's work so far before writing them.
  slot.device.clear();
  for (const Tensor& col : columns_) {
    Shape s = col.shape();
    s[0] = rows;
    slot.device.push_back(Tensor::empty(s, col.dtype(), device_));
  }
  CUREC_CUDA_CHECK(cudaEventRecord(slot.ready, compute));
  CUREC_CUDA_CHECK(cudaStreamWaitEvent(side, slot.ready, 0));
  for (size_t c = 0; c < columns_.size(); ++c)
    CUREC_CUDA_CHECK(cudaMemcpyAsync(slot.device[c].raw_data(), slot.host[c].data(),
                                     static_cast<size_t>(rows * row_bytes_[c]), cudaMemcpyHostToDevice, side));
  CUREC_CUDA_CHECK(cudaEventRecord(slot.copied, side));
  slot.batch = b;
#else
  (void)b;
  (void)slot;
#endif
}

bool Prefetcher::next(std::vector<Tensor>& batch) {
  int64_t b = next_batch_;
  if (b >= num_batches()) return false;
  ++next_batch_;
  batch.clear();
  if (!device_.is_cuda()) {
    int64_t rows = rows_of_batch(b), start = b * batch_size_;
    if (order_->empty()) {
      for (const Tensor& c : columns_) batch.push_back(c.rows(start, rows));
      return true;
    }
    std::vector<const char*> src;
    std::vector<char*> dst;
    for (size_t c = 0; c < columns_.size(); ++c) {
      Shape s = columns_[c].shape();
      s[0] = rows;
      batch.push_back(Tensor::empty(s, columns_[c].dtype()));
      src.push_back(static_cast<const char*>(columns_[c].raw_data()));
      dst.push_back(static_cast<char*>(batch.back().raw_data()));
    }
    gather_batch(src, row_bytes_, dst, *order_, start, rows);
    return true;
  }
#if CUREC_WITH_CUDA
  Slot& slot = *slots_[b % 2];
  CUREC_CHECK(slot.batch == b, "Prefetcher: internal error, batch ", b, " was not staged");
  curec::cuda::DeviceGuard g(device_.index);
  // Work queued on the compute stream from now on sees the copied batch.
  CUREC_CUDA_CHECK(cudaStreamWaitEvent(curec::cuda::current_stream(device_.index), slot.copied, 0));
  batch = slot.device;
  slot.device.clear();
  if (b + 1 < num_batches()) stage(b + 1, *slots_[(b + 1) % 2]);
#endif
  return true;
}

}  // namespace curec::data
