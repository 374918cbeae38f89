#include "train/distributed/local_ranks.h"

#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstring>
#include <exception>
#include <mutex>
#include <sstream>
#include <thread>

#include "train/distributed/nccl_communicator.h"

namespace curec::dist {

struct LocalRanks::Threads {
  int n = 1;
  double timeout_s = 300.0;
  std::mutex m;
  std::condition_variable cv;
  uint64_t generation = 0;
  int arrived = 0;
  std::vector<uint64_t> entered;    // sync points each rank has entered
  std::vector<Call> last_seen;      // each rank's latest collective, for messages
  std::vector<char> finished;       // the rank's function returned
  bool aborted = false;
  std::string reason;
  std::vector<void*> data;          // each rank's tensor, read by the others between two sync points

  Threads(int ranks, double timeout)
      : n(ranks), timeout_s(timeout), entered(ranks), last_seen(ranks), finished(ranks), data(ranks) {}

  // Waits until all n ranks reached this sync point. Throws when the group is stopped, when a rank
  // this one waits for has finished, or after the timeout (which stops the group).
  void sync_point(int rank, const Call& call, const std::string& where) {
    std::unique_lock lock(m);
    if (aborted) CUREC_FAIL(where, ": the thread group was stopped: ", reason);
    last_seen[rank] = call;
    const uint64_t gen = generation;
    ++entered[rank];
    if (++arrived == n) {
      arrived = 0;
      ++generation;
      cv.notify_all();
      return;
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                                                 std::chrono::duration<double>(timeout_s));
    auto seen = [&](int r) {
      return last_seen[r].op == Call::none ? std::string("in no collective yet") : "last seen in " + last_seen[r].str();
    };
    while (generation == gen) {
      if (aborted) CUREC_FAIL(where, ": the thread group was stopped: ", reason);
      for (int r = 0; r < n; ++r)
        if (entered[r] < entered[rank] && finished[r]) {
          stop(detail::concat(where, " waits for rank ", r, ", which returned from its function without calling it (",
                              seen(r), "); every rank must call the same collectives in the same order"));
          CUREC_FAIL(reason);
        }
      if (cv.wait_until(lock, deadline) == std::cv_status::timeout && generation == gen) {
        std::ostringstream os;
        os << where << " timed out after " << timeout_s << " s waiting for";
        for (int r = 0; r < n; ++r)
          if (entered[r] < entered[rank]) os << " rank " << r << " (" << seen(r) << ")";
        os << "; every rank must call the same collectives in the same order (look for a rank that skipped one, or "
              "is stuck), or raise the timeout_s";
        stop(os.str());
        CUREC_FAIL(reason);
      }
    }
  }

  void stop(const std::string& why) {  // under the lock
    if (!aborted) {
      aborted = true;
      reason = why;
    }
    cv.notify_all();
  }
};

namespace {

class ThreadCommunicator : public Communicator {
 public:
  ThreadCommunicator(int rank, std::shared_ptr<LocalRanks::Threads> s)
      : Communicator(rank, s->n, true), s_(std::move(s)) {}

  std::string backend() const override { return "threads"; }
  Device device() const override { return Device::cpu(); }
  void do_abort(const std::string& reason) override {
    std::lock_guard lock(s_->m);
    s_->stop(reason);
  }

 protected:
  // This rank's slice of the elements, summed in rank order into its own tensor and copied into
  // every other rank's: no other rank reads or writes these elements, so no scratch is needed.
  void do_all_reduce(Tensor& t) override {
    exchange(t.raw_data(), [&] {
      const int64_t numel = t.numel(), per = (numel + world_size() - 1) / world_size();
      const int64_t lo = std::min(numel, per * rank()), len = std::min(numel, lo + per) - lo;
      const size_t bytes = dtype_size(t.dtype()), at = static_cast<size_t>(lo) * bytes;
      std::vector<const void*> x;
      for (void* d : s_->data) x.push_back(static_cast<const char*>(d) + at);
      char* mine = static_cast<char*>(t.raw_data()) + at;
      sum_in_rank_order(mine, x, len, t.dtype());
      for (int r = 0; r < world_size(); ++r)
        if (r != rank() && len) std::memcpy(static_cast<char*>(s_->data[r]) + at, mine, static_cast<size_t>(len) * bytes);
    });
  }

  void do_broadcast(Tensor& t, int root) override {
    exchange(t.raw_data(), [&] {
      if (rank() != root && t.nbytes()) std::memcpy(t.raw_data(), s_->data[root], t.nbytes());
    });
  }

  void do_all_gather_v(const Tensor& t, const std::vector<int64_t>& counts, Tensor& out) override {
    exchange(const_cast<void*>(t.raw_data()), [&] {
      const size_t row = row_bytes(t);
      char* dst = static_cast<char*>(out.raw_data());
      for (int r = 0; r < world_size(); ++r) {
        const size_t b = static_cast<size_t>(counts[r]) * row;
        if (b) std::memcpy(dst, s_->data[r], b);
        dst += b;
      }
    });
  }

 private:
  // Posts this rank's tensor, waits for every rank's, runs `work` (reading and writing the posted
  // tensors), and waits until every rank has done its work.
  template <class Work>
  void exchange(void* data, Work&& work) {
    {
      std::lock_guard lock(s_->m);
      s_->data[rank()] = data;
    }
    if (world_size() == 1) return work();
    const std::string w = where();
    s_->sync_point(rank(), current(), w);
    work();
    s_->sync_point(rank(), current(), w + " (leaving)");
  }

  std::shared_ptr<LocalRanks::Threads> s_;
};

}  // namespace

LocalRanks::LocalRanks(int world_size, Device device, double timeout_s) {
  CUREC_CHECK(world_size >= 1, "LocalRanks: world size must be >= 1, got ", world_size);
  CUREC_CHECK(std::isfinite(timeout_s) && timeout_s > 0, "LocalRanks: timeout_s must be > 0, got ", timeout_s);
  if (device.is_cuda()) {
    std::vector<int> devices;
    for (int r = 0; r < world_size; ++r) devices.push_back(world_size == 1 ? device.index : r);
    comms_ = nccl_init_all(devices, {.timeout_s = timeout_s});
    return;
  }
  threads_ = std::make_shared<Threads>(world_size, timeout_s);
  for (int r = 0; r < world_size; ++r) comms_.push_back(std::make_unique<ThreadCommunicator>(r, threads_));
}

LocalRanks::~LocalRanks() = default;

void LocalRanks::run(const std::function<void(Communicator&)>& fn) {
  if (threads_) {
    std::lock_guard lock(threads_->m);
    CUREC_CHECK(!threads_->aborted, "the in-process ranks were stopped earlier (", threads_->reason,
                "); make new LocalRanks");
    CUREC_CHECK(threads_->arrived == 0, "the in-process ranks are still in a collective");
    std::fill(threads_->finished.begin(), threads_->finished.end(), 0);
  }
  std::mutex m;
  std::exception_ptr first;
  int first_rank = -1;
  // The first failure is the cause: it aborts the other ranks' communicators, whose own errors
  // (the aborts) are then not reported.
  auto failed = [&](size_t r, const std::string& reason) {
    {
      std::lock_guard lock(m);
      if (first) return;
      first = std::current_exception();
      first_rank = static_cast<int>(r);
    }
    for (size_t o = 0; o < comms_.size(); ++o)
      if (o != r) comms_[o]->abort(detail::concat(comms_[r]->who(), " failed: ", reason));
  };
  auto body = [&](size_t r) {
    try {
      fn(*comms_[r]);
      if (threads_) {  // a rank still waiting for this one fails at once
        std::lock_guard lock(threads_->m);
        threads_->finished[r] = 1;
        threads_->cv.notify_all();
      }
    } catch (const std::exception& e) {
      failed(r, e.what());
    } catch (...) {
      failed(r, "an unknown exception");
    }
  };
  if (comms_.size() == 1) {
    body(0);
  } else {
    std::vector<std::thread> threads;
    for (size_t r = 0; r < comms_.size(); ++r) threads.emplace_back(body, r);
    for (std::thread& t : threads) t.join();
  }
  if (!first) return;
  try {
    std::rethrow_exception(first);
  } catch (const Error& e) {
    const std::string prefix = detail::concat("[rank ", first_rank, "] ");
    if (e.message().rfind(prefix, 0) == 0) throw;
    throw Error(prefix + e.message(), e.file(), e.line());
  }
}

}  // namespace curec::dist
