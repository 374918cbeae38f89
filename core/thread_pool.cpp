#include "core/thread_pool.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <string>

#include "core/denormals.h"
#include "core/error.h"
#if defined(__linux__)
#include <sched.h>
#endif
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace curec {
namespace {

thread_local bool t_in_region = false;

struct RegionGuard {
  bool was = t_in_region;
  RegionGuard() { t_in_region = true; }
  ~RegionGuard() { t_in_region = was; }
};

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#else
  std::this_thread::yield();
#endif
}

// A worker that finished a job spins this long for the next one before sleeping: the loops of
// one training step follow each other within microseconds, and a futex wake costs about as much.
constexpr auto kSpin = std::chrono::microseconds(50);

int available_cores() {
#if defined(__linux__)
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    int n = CPU_COUNT(&set);
    if (n > 0) return n;
  }
#endif
  unsigned n = std::thread::hardware_concurrency();
  return n > 0 ? static_cast<int>(n) : 1;
}

constexpr int kMaxThreads = 1024;

int threads_from_env() {
  const char* text = std::getenv("CUREC_CPU_THREADS");
  if (!text || !*text) return available_cores();
  char* end = nullptr;
  long n = std::strtol(text, &end, 10);
  CUREC_CHECK(end && *end == '\0' && n >= 1 && n <= kMaxThreads, "CUREC_CPU_THREADS='", text,
              "' is not a thread count: set it to an integer from 1 to ", kMaxThreads,
              " (e.g. CUREC_CPU_THREADS=2), or unset it to use every core (", available_cores(), " here)");
  return static_cast<int>(n);
}

// The configured count (0: not read yet) and the pool built for it, replaced by set_cpu_threads.
std::mutex g_mu;
std::atomic<int> g_threads{0};
std::shared_ptr<ThreadPool> g_pool;

std::shared_ptr<ThreadPool> pool_for(int threads) {
  std::lock_guard<std::mutex> lk(g_mu);
  if (!g_pool || g_pool->threads() != threads) g_pool = std::make_shared<ThreadPool>(threads);
  return g_pool;
}

}  // namespace

ThreadPool::ThreadPool(int threads) {
  CUREC_CHECK(threads >= 1, "ThreadPool: needs at least one thread, got ", threads);
  workers_.reserve(static_cast<size_t>(threads - 1));
  for (int i = 1; i < threads; ++i) workers_.emplace_back([this] { worker_loop(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    stop_ = true;
    generation_.fetch_add(1, std::memory_order_release);
  }
  wake_.notify_all();
  for (std::thread& t : workers_) t.join();
}

void ThreadPool::take_pieces() {
  const int64_t n = end_ - begin_, pieces = pieces_;
  for (;;) {
    const int64_t p = next_.fetch_add(1, std::memory_order_relaxed);
    if (p >= pieces) return;  // (a worker that came late never touches body_: it may be gone)
    if (!failed_.load(std::memory_order_relaxed)) {
      try {
        (*body_)(begin_ + n * p / pieces, begin_ + n * (p + 1) / pieces);
      } catch (...) {
        std::lock_guard<std::mutex> lk(mu_);
        if (!error_) error_ = std::current_exception();
        failed_.store(true, std::memory_order_relaxed);
      }
    }
    done_.fetch_add(1, std::memory_order_acq_rel);
  }
}

void ThreadPool::worker_loop() {
  prepare_cpu_thread();
  t_in_region = true;  // anything a worker runs is inside a job: nested loops run inline
  uint64_t seen = 0;
  for (;;) {
    const auto until = std::chrono::steady_clock::now() + kSpin;
    int spins = 0;
    while (generation_.load(std::memory_order_acquire) == seen) {
      cpu_relax();
      if (++spins % 64 == 0 && std::chrono::steady_clock::now() > until) break;
    }
    std::unique_lock<std::mutex> lk(mu_);
    wake_.wait(lk, [&] { return generation_.load(std::memory_order_relaxed) != seen; });
    if (stop_) return;
    seen = generation_.load(std::memory_order_relaxed);
    ++busy_;
    lk.unlock();
    take_pieces();
    lk.lock();
    if (--busy_ == 0) idle_.notify_all();
  }
}

void ThreadPool::run(int64_t begin, int64_t end, int64_t pieces, RangeFn body) {
  std::unique_lock<std::mutex> job(job_mu_, std::try_to_lock);
  if (!job.owns_lock() || workers_.empty() || pieces <= 1) {
    RegionGuard region;
    body(begin, end);
    return;
  }
  {
    std::unique_lock<std::mutex> lk(mu_);
    // A worker still inside the previous job (it found no piece left) must leave it before the
    // counters are reset, or it would take a piece of this job with the previous job's body.
    idle_.wait(lk, [&] { return busy_ == 0; });
    body_ = &body;
    begin_ = begin;
    end_ = end;
    pieces_ = pieces;
    next_.store(0, std::memory_order_relaxed);
    done_.store(0, std::memory_order_relaxed);
    failed_.store(false, std::memory_order_relaxed);
    error_ = nullptr;
    generation_.fetch_add(1, std::memory_order_release);
  }
  wake_.notify_all();
  {
    RegionGuard region;
    take_pieces();
  }
  for (int spins = 0; done_.load(std::memory_order_acquire) < pieces; ++spins) {
    if (spins < 4096) cpu_relax();
    else std::this_thread::yield();
  }
  std::exception_ptr error;
  {
    std::lock_guard<std::mutex> lk(mu_);
    error = error_;
    error_ = nullptr;
  }
  if (error) std::rethrow_exception(error);
}

int cpu_threads() {
  int n = g_threads.load(std::memory_order_acquire);
  if (n > 0) return n;
  std::lock_guard<std::mutex> lk(g_mu);
  n = g_threads.load(std::memory_order_relaxed);
  if (n == 0) {
    n = threads_from_env();
    g_threads.store(n, std::memory_order_release);
  }
  return n;
}

void set_cpu_threads(int n) {
  CUREC_CHECK(n >= 1 && n <= kMaxThreads, "set_cpu_threads: ", n, " is not a thread count; pass 1 to ", kMaxThreads);
  CUREC_CHECK(!t_in_region, "set_cpu_threads: called from inside a parallel_for; set the thread count before or after it");
  std::shared_ptr<ThreadPool> old;
  {
    std::lock_guard<std::mutex> lk(g_mu);
    g_threads.store(n, std::memory_order_release);
    old = std::move(g_pool);  // joined below, once a job still running on it has finished
  }
}

bool in_parallel_region() { return t_in_region; }

namespace detail {

bool run_inline(int64_t n, int64_t grain) {
  prepare_cpu_thread();  // every CPU loop passes here: a thread's first one sets FTZ/DAZ on it
  return n <= (grain < 1 ? 1 : grain) || t_in_region || cpu_threads() == 1;
}

void parallel_run(int64_t begin, int64_t end, int64_t grain, RangeFn fn) {
  const int threads = cpu_threads();
  if (grain < 1) grain = 1;
  // Pieces of at least `grain`, a few per thread so that the others absorb a slow one.
  const int64_t most = (end - begin + grain - 1) / grain;
  const int64_t pieces = std::min<int64_t>(most, int64_t{4} * threads);
  pool_for(threads)->run(begin, end, pieces, fn);
}

}  // namespace detail
}  // namespace curec
