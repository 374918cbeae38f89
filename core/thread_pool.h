#pragma once
// The one CPU thread pool behind parallel_for (core/parallel.h): threads - 1 workers and the
// calling thread share each job's pieces, taken one at a time from a counter, so a worker that
// the OS descheduled (a busy machine) delays nobody: the others take its share. One job at a
// time: a second thread that calls while a job runs does its work inline instead (no nested or
// concurrent oversubscription). Workers spin briefly for the next job, then sleep.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "core/parallel.h"

namespace curec {

class ThreadPool {
 public:
  explicit ThreadPool(int threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int threads() const { return static_cast<int>(workers_.size()) + 1; }
  // Runs body(piece_begin, piece_end) over [begin, end) cut into `pieces` near-equal pieces;
  // returns when all have run, rethrowing the first exception one of them threw.
  void run(int64_t begin, int64_t end, int64_t pieces, RangeFn body);

 private:
  void worker_loop();
  void take_pieces();

  std::vector<std::thread> workers_;
  std::mutex job_mu_;  // one job at a time
  std::mutex mu_;      // guards the fields below, except the atomics
  std::condition_variable wake_, idle_;
  std::atomic<uint64_t> generation_{0};
  std::atomic<int64_t> next_{0}, done_{0};
  std::atomic<bool> failed_{false};
  const RangeFn* body_ = nullptr;
  int64_t begin_ = 0, end_ = 0, pieces_ = 0;
  int busy_ = 0;  // workers between taking a job and leaving it
  bool stop_ = false;
  std::exception_ptr error_;
};

}  // namespace curec
