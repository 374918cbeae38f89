#include "train/distributed/thread_group.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstring>
#include <functional>
#include <mutex>
#include <sstream>

namespace curec::dist {

namespace {

// What one rank passed to the collective it is in; read by the others between the two sync points.
struct Post {
  std::string op;
  uint64_t seq = 0;
  DType dtype = DType::f32;
  Shape shape;
  const void* data = nullptr;
  int root = -1;
  ReduceOp reduce = ReduceOp::sum;
  std::vector<int64_t> counts;  // all_gather_v: the counts this rank was given
};

std::string describe(const Post& p) {
  std::ostringstream os;
  os << p.op << " #" << p.seq;
  if (p.op == "barrier") return os.str();
  os << " of " << dtype_name(p.dtype) << shape_str(p.shape);
  if (p.op == "all_reduce") os << " (" << reduce_op_name(p.reduce) << ")";
  if (p.op == "broadcast") os << " from root " << p.root;
  return os.str();
}

using Clock = std::chrono::steady_clock;

}  // namespace

struct ThreadGroup::State {
  int n = 1;
  double timeout_s = 300.0;
  std::mutex m;
  std::condition_variable cv;
  uint64_t generation = 0;
  int arrived = 0;
  std::vector<uint64_t> entered;       // sync points each rank has entered
  std::vector<std::string> last_seen;  // each rank's latest collective, for messages
  std::vector<char> finished;          // the rank's run_ranks function returned
  bool aborted = false;
  std::string reason;
  std::vector<Post> posts;             // read by the others between a collective's two sync points
  std::string verdict;                 // the last sync point's check: empty when the ranks agree

  // Waits until all n ranks reached this sync point; `complete` runs once, under the lock, in
  // the last rank to arrive (before anyone goes on). Throws when the group is stopped, when a rank
  // this one waits for has finished, or after the timeout (which stops the group).
  void sync_point(int rank, const std::string& where, const std::function<void()>& complete = {}) {
    std::unique_lock lock(m);
    if (aborted) throw_stopped(where);
    uint64_t gen = generation;
    ++entered[rank];
    if (++arrived == n) {
      arrived = 0;
      if (complete) complete();
      ++generation;
      cv.notify_all();
      return;
    }
    auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(timeout_s));
    while (generation == gen) {
      if (aborted) throw_stopped(where);
      for (int r = 0; r < n; ++r)
        if (entered[r] < entered[rank] && finished[r]) {
          stop(detail::concat(where, " waits for rank ", r, ", which returned from its function without calling it (",
                              last_seen[r].empty() ? "it called no collective" : "its last collective was " + last_seen[r],
                              "); every rank must call the same collectives in the same order"));
          throw_stopped_self();
        }
      if (cv.wait_until(lock, deadline) == std::cv_status::timeout && generation == gen) {
        std::ostringstream os;
        os << where << " timed out after " << timeout_s << " s waiting for";
        for (int r = 0; r < n; ++r)
          if (entered[r] < entered[rank])
            os << " rank " << r << " ("
               << (last_seen[r].empty() ? "in no collective yet" : "last seen in " + last_seen[r]) << ")";
        os << "; every rank must call the same collectives in the same order (look for a rank that skipped one, or "
              "is stuck), or raise ThreadGroupOptions::timeout_s";
        stop(os.str());
        throw_stopped_self();
      }
    }
  }

  // Under the lock.
  void stop(const std::string& why) {
    if (!aborted) {
      aborted = true;
      reason = why;
    }
    cv.notify_all();
  }
  [[noreturn]] void throw_stopped(const std::string& where) {
    CUREC_FAIL(where, ": the thread group was stopped: ", reason);
  }
  [[noreturn]] void throw_stopped_self() { CUREC_FAIL(reason); }
};

namespace {

class ThreadCommunicator : public Communicator {
 public:
  ThreadCommunicator(int rank, std::shared_ptr<ThreadGroup::State> s) : Communicator(rank, s->n), s_(std::move(s)) {}

  std::string backend() const override { return "threads"; }
  Device device() const override { return Device::cpu(); }
  void abort(const std::string& reason) override {
    std::lock_guard lock(s_->m);
    s_->stop(reason);
  }

 protected:
  void do_all_reduce(Tensor& t, ReduceOp op) override {
    Post p = post("all_reduce", t);
    p.reduce = op;
    arrive(std::move(p),
           agree([](const Post& a, const Post& b) { return a.dtype == b.dtype && a.shape == b.shape && a.reduce == b.reduce; },
                 "pass tensors of the same dtype and shape, and the same reduce op, on every rank"));
    if (world_size() > 1) {
      switch (t.dtype()) {
        case DType::f32: reduce_slice<float>(t.numel(), op); break;
        case DType::i32: reduce_slice<int32_t>(t.numel(), op); break;
        case DType::i64: reduce_slice<int64_t>(t.numel(), op); break;
        default: break;  // checked by the base
      }
    }
    depart();  // every slice written into every rank's tensor
  }

  void do_broadcast(Tensor& t, int root) override {
    Post p = post("broadcast", t);
    p.root = root;
    arrive(std::move(p),
           agree([](const Post& a, const Post& b) { return a.dtype == b.dtype && a.shape == b.shape && a.root == b.root; },
                 "pass tensors of the same dtype and shape, and the same root, on every rank"));
    if (rank() != root && t.nbytes()) std::memcpy(t.raw_data(), s_->posts[root].data, t.nbytes());
    depart();
  }

  void do_all_gather_v(const char* op, const Tensor& t, const std::vector<int64_t>& counts, Tensor& out) override {
    Post p = post(op, t);
    p.counts = counts;
    const bool fixed = std::string(op) == "all_gather";
    auto same = agree(
        [fixed](const Post& a, const Post& b) {
          Shape ta(a.shape.begin() + 1, a.shape.end()), tb(b.shape.begin() + 1, b.shape.end());
          return a.dtype == b.dtype && ta == tb && (!fixed || a.shape == b.shape);
        },
        fixed ? "pass tensors of the same dtype and shape on every rank (all_gather_v takes different first dims)"
              : "pass tensors of the same dtype and trailing dims on every rank (only dim 0 may differ)");
    // ... and the counts every rank was given must be the true first dims.
    arrive(std::move(p), [same](const std::vector<Post>& posts) {
      std::string v = same(posts);
      if (!v.empty()) return v;
      for (size_t r = 0; r < posts.size(); ++r)
        for (size_t c = 0; c < posts.size(); ++c)
          if (posts[r].counts[c] != posts[c].shape[0])
            return detail::concat("rank ", r, " was told that rank ", c, " gives ", posts[r].counts[c],
                                  " rows but rank ", c, " passed ", dtype_name(posts[c].dtype), shape_str(posts[c].shape),
                                  "; pass every rank's true dim-0 size (or let all_gather_v(t) exchange them)");
      return std::string();
    });
    Shape trailing(t.shape().begin() + 1, t.shape().end());
    const size_t row_bytes = static_cast<size_t>(shape_numel(trailing)) * dtype_size(t.dtype());
    char* dst = static_cast<char*>(out.raw_data());
    for (int r = 0; r < world_size(); ++r) {
      size_t b = static_cast<size_t>(counts[r]) * row_bytes;
      if (b) std::memcpy(dst, s_->posts[r].data, b);
      dst += b;
    }
    depart();
  }

  // One sync point only: nothing of a rank's is read after it leaves.
  void do_barrier() override {
    Post p;
    p.op = "barrier";
    p.seq = ++seq_;
    arrive(std::move(p), agree([](const Post&, const Post&) { return true; },
                               "every rank must call the same collectives in the same order"));
  }

 private:
  using Checker = std::function<std::string(const std::vector<Post>&)>;

  Post post(const char* op, const Tensor& t) {
    Post p;
    p.op = op;
    p.seq = ++seq_;
    p.dtype = t.dtype();
    p.shape = t.shape();
    p.data = t.raw_data();
    return p;
  }

  std::string where() const { return detail::concat(current_.op, " #", current_.seq, " on ", who()); }

  // Posts this rank's call and waits for every rank's. The last rank to arrive runs `check` on
  // all the posts (under the lock, before anyone goes on, so no rank reads a post that its owner
  // has already replaced with its next call) and, when they agree, `complete`; every rank then
  // throws the same verdict, or goes on.
  void arrive(Post p, const Checker& check, const std::function<void()>& complete = {}) {
    current_ = p;
    std::string w = where();
    {
      std::lock_guard lock(s_->m);
      s_->last_seen[rank()] = describe(p);
      s_->posts[rank()] = std::move(p);
    }
    auto run = [this, &check, &complete] {
      s_->verdict = check(s_->posts);
      if (s_->verdict.empty() && complete) complete();
    };
    if (world_size() == 1) run();
    else s_->sync_point(rank(), w, run);
    std::string verdict;
    {
      std::lock_guard lock(s_->m);
      verdict = s_->verdict;  // stays until every rank, this one included, reaches the next sync point
    }
    if (!verdict.empty()) CUREC_FAIL(where(), ": ", verdict);
  }

  void depart() {
    if (world_size() > 1) s_->sync_point(rank(), where() + " (leaving)");
  }

  // A checker comparing every post with rank 0's.
  template <class Same>
  static Checker agree(Same same, const char* advice) {
    return [same, advice](const std::vector<Post>& posts) {
      bool ok = true;
      for (size_t r = 1; r < posts.size() && ok; ++r)
        ok = posts[r].op == posts[0].op && posts[r].seq == posts[0].seq && same(posts[r], posts[0]);
      if (ok) return std::string();
      std::ostringstream os;
      os << "the ranks disagree:";
      for (size_t r = 0; r < posts.size(); ++r) os << (r ? ";" : "") << " rank " << r << " called " << describe(posts[r]);
      os << "; " << advice;
      return os.str();
    };
  }

  // This rank's slice of the elements, summed in rank order (((x0[i] + x1[i]) + x2[i]) ...) and
  // written into every rank's tensor: no other rank reads or writes these elements, so the
  // all-reduce needs no scratch and each element is read and written once per rank. In blocks,
  // so that the sums stay in cache and vectorise.
  template <class T>
  void reduce_slice(int64_t numel, ReduceOp op) {
    const int n = world_size();
    const int64_t per = (numel + n - 1) / n;
    const int64_t lo = std::min(numel, per * rank()), hi = std::min(numel, lo + per);
    std::vector<T*> x(static_cast<size_t>(n));
    for (int r = 0; r < n; ++r) x[r] = static_cast<T*>(const_cast<void*>(s_->posts[r].data));
    constexpr int64_t kBlock = 2048;
    T acc[kBlock];
    for (int64_t b = lo; b < hi; b += kBlock) {
      const int64_t len = std::min(kBlock, hi - b);
      const T* first = x[0] + b;
      for (int64_t i = 0; i < len; ++i) acc[i] = first[i];
      for (int r = 1; r < n; ++r) {
        const T* xr = x[r] + b;
        for (int64_t i = 0; i < len; ++i) acc[i] += xr[i];
      }
      if (op == ReduceOp::avg)
        for (int64_t i = 0; i < len; ++i) acc[i] /= static_cast<T>(n);
      for (int r = 0; r < n; ++r) std::memcpy(x[r] + b, acc, static_cast<size_t>(len) * sizeof(T));
    }
  }

  std::shared_ptr<ThreadGroup::State> s_;
  uint64_t seq_ = 0;
  Post current_;
};

}  // namespace

ThreadGroup::ThreadGroup(int world_size, ThreadGroupOptions options) : state_(std::make_shared<State>()) {
  CUREC_CHECK(world_size >= 1, "ThreadGroup: world size must be >= 1, got ", world_size);
  CUREC_CHECK(std::isfinite(options.timeout_s) && options.timeout_s > 0, "ThreadGroup: timeout_s must be > 0, got ",
              options.timeout_s);
  state_->n = world_size;
  state_->timeout_s = options.timeout_s;
  state_->entered.assign(world_size, 0);
  state_->last_seen.assign(world_size, "");
  state_->finished.assign(world_size, 0);
  state_->posts.resize(world_size);
  for (int r = 0; r < world_size; ++r) comms_.push_back(std::make_unique<ThreadCommunicator>(r, state_));
}

ThreadGroup::~ThreadGroup() = default;

int ThreadGroup::world_size() const { return state_->n; }

Communicator& ThreadGroup::communicator(int rank) {
  CUREC_CHECK(rank >= 0 && rank < world_size(), "ThreadGroup::communicator(", rank, "): ranks are 0..",
              world_size() - 1);
  return *comms_[rank];
}

std::vector<Communicator*> ThreadGroup::communicators() {
  std::vector<Communicator*> v;
  for (auto& c : comms_) v.push_back(c.get());
  return v;
}

void ThreadGroup::abort(const std::string& reason) {
  std::lock_guard lock(state_->m);
  state_->stop(reason);
}

bool ThreadGroup::aborted() const {
  std::lock_guard lock(state_->m);
  return state_->aborted;
}

std::unique_ptr<Communicator> solo_communicator() {
  auto state = std::make_shared<ThreadGroup::State>();
  state->n = 1;
  state->entered.assign(1, 0);
  state->last_seen.assign(1, "");
  state->finished.assign(1, 0);
  state->posts.resize(1);
  return std::make_unique<ThreadCommunicator>(0, std::move(state));
}

void run_ranks(ThreadGroup& group, const std::function<void(Communicator&)>& fn) {
  {
    std::lock_guard lock(group.state_->m);
    CUREC_CHECK(!group.state_->aborted, "run_ranks: the thread group was stopped earlier (", group.state_->reason,
                "); make a new ThreadGroup");
    CUREC_CHECK(group.state_->arrived == 0, "run_ranks: a collective of this thread group is still in progress");
    std::fill(group.state_->finished.begin(), group.state_->finished.end(), 0);
  }
  auto state = group.state_;
  run_ranks(group.communicators(), [&fn, state](Communicator& c) {
    fn(c);
    std::lock_guard lock(state->m);
    state->finished[c.rank()] = 1;
    state->cv.notify_all();
  });
}

void run_ranks(int world_size, const std::function<void(Communicator&)>& fn, ThreadGroupOptions options) {
  ThreadGroup group(world_size, options);
  run_ranks(group, fn);
}

}  // namespace curec::dist
