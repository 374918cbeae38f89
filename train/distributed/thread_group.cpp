#include "train/distributed/thread_group.h"

#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstring>
#include <functional>
#include <mutex>
#include <sstream>

namespace curec::dist {

struct ThreadGroup::State {
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
  std::vector<std::vector<int64_t>> host;  // each rank's all_gather_host values
  std::vector<int64_t> gathered;    // their concatenation, until the next sync point completes

  State(int ranks, double timeout) : n(ranks), timeout_s(timeout), entered(ranks), last_seen(ranks),
                                     finished(ranks), data(ranks), host(ranks) {}

  // Waits until all n ranks reached this sync point; `complete` runs once, under the lock, in the
  // last rank to arrive. Throws when the group is stopped, when a rank this one waits for has
  // finished, or after the timeout (which stops the group).
  void sync_point(int rank, const Call& call, const std::string& where, const std::function<void()>& complete = {}) {
    std::unique_lock lock(m);
    if (aborted) CUREC_FAIL(where, ": the thread group was stopped: ", reason);
    last_seen[rank] = call;
    const uint64_t gen = generation;
    ++entered[rank];
    if (++arrived == n) {
      arrived = 0;
      if (complete) complete();
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

  void abort(const std::string& why) {
    std::lock_guard lock(m);
    stop(why);
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
  ThreadCommunicator(int rank, std::shared_ptr<ThreadGroup::State> s)
      : Communicator(rank, s->n, true), s_(std::move(s)) {}

  std::string backend() const override { return "threads"; }
  Device device() const override { return Device::cpu(); }
  void abort(const std::string& reason) override { s_->abort(reason); }

 protected:
  // This rank's slice of the elements, summed in rank order into its own tensor and copied into
  // every other rank's: no other rank reads or writes these elements, so no scratch is needed.
  void do_all_reduce(Tensor& t, ReduceOp op) override {
    exchange(t.raw_data(), [&] {
      const int64_t numel = t.numel(), per = (numel + world_size() - 1) / world_size();
      const int64_t lo = std::min(numel, per * rank()), len = std::min(numel, lo + per) - lo;
      const size_t bytes = dtype_size(t.dtype()), at = static_cast<size_t>(lo) * bytes;
      std::vector<const void*> x;
      for (void* d : s_->data) x.push_back(static_cast<const char*>(d) + at);
      char* mine = static_cast<char*>(t.raw_data()) + at;
      sum_in_rank_order(mine, x, len, t.dtype(), op);
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

  void do_barrier() override {
    if (world_size() > 1) s_->sync_point(rank(), current(), where());
  }

  // One sync point: the last rank to arrive concatenates the values, which stay until every rank
  // (this one included) has reached the next sync point.
  std::vector<int64_t> do_all_gather_host(const std::vector<int64_t>& mine) override {
    if (world_size() == 1) return mine;
    {
      std::lock_guard lock(s_->m);
      s_->host[rank()] = mine;
    }
    s_->sync_point(rank(), current(), where(), [s = s_.get()] {
      s->gathered.clear();
      for (const auto& h : s->host) s->gathered.insert(s->gathered.end(), h.begin(), h.end());
    });
    std::lock_guard lock(s_->m);
    return s_->gathered;
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

  std::shared_ptr<ThreadGroup::State> s_;
};

}  // namespace

ThreadGroup::ThreadGroup(int world_size, double timeout_s) {
  CUREC_CHECK(world_size >= 1, "ThreadGroup: world size must be >= 1, got ", world_size);
  CUREC_CHECK(std::isfinite(timeout_s) && timeout_s > 0, "ThreadGroup: timeout_s must be > 0, got ", timeout_s);
  state_ = std::make_shared<State>(world_size, timeout_s);
  for (int r = 0; r < world_size; ++r) comms_.push_back(std::make_unique<ThreadCommunicator>(r, state_));
}

ThreadGroup::~ThreadGroup() = default;

Communicator& ThreadGroup::communicator(int rank) {
  return *comms_.at(static_cast<size_t>(rank));
}

bool ThreadGroup::aborted() const {
  std::lock_guard lock(state_->m);
  return state_->aborted;
}

void ThreadGroup::begin_run() {
  std::lock_guard lock(state_->m);
  CUREC_CHECK(!state_->aborted, "the in-process ranks were stopped earlier (", state_->reason,
              "); make new LocalRanks");
  CUREC_CHECK(state_->arrived == 0, "the in-process ranks are still in a collective");
  std::fill(state_->finished.begin(), state_->finished.end(), 0);
}

void ThreadGroup::finished(int rank) {
  std::lock_guard lock(state_->m);
  state_->finished[rank] = 1;
  state_->cv.notify_all();
}

std::unique_ptr<Communicator> solo_communicator() {
  return std::make_unique<ThreadCommunicator>(0, std::make_shared<ThreadGroup::State>(1, default_timeout_s()));
}

}  // namespace curec::dist
