#pragma once
// Communicator: the collectives that data-parallel training needs, on curec Tensors, for one
// rank of a group of world_size() ranks. Every rank of the group must call the same collectives
// in the same order, with tensors of the same dtype and (except all_gather_v's first dim) the
// same shape; each call returns on a rank once that rank's result is in place.
//
// Backends: threads (local_ranks.h: in-process, CPU), mpi_communicator.h (a process per rank,
// CPU), nccl_communicator.h (a GPU per rank, one process or one per GPU).
//
// Sums are deterministic: the CPU backends add the ranks' values in rank order
// (((r0 + r1) + r2) + ...; sum_in_rank_order), so every rank gets the same bits whatever the
// thread or network timing, and the thread and MPI backends agree bit for bit. NCCL gives every
// rank the same bits for a fixed world size and topology, in NCCL's own order.
//
// The consistency check (as c10d's ProcessGroupWrapper), one for every backend: each collective
// first exchanges, on the host, what every rank called (collective, sequence number, dtype, shape,
// root, counts), so ranks that disagree fail on every rank, naming what each called, before any
// data moves. The CPU backends always check; NCCL, whose host exchange may wait for the
// device, on request (NcclOptions::check_calls).
//
// Errors are curec::Error naming the collective, the rank, the shapes and what to do. A rank that
// does not arrive makes the others fail after the backend's timeout instead of hanging; after a
// timeout or an abort() the communicator is broken and every later call fails at once.
#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace curec::dist {

// How long a collective waits for the other ranks before it fails (every backend's default):
// $CUREC_DIST_TIMEOUT_S when set (seconds, > 0), else 300.
double default_timeout_s();
// The backends' host waits: polls done() (spinning briefly, as most waits are microseconds, then
// sleeping) until it returns true, or returns false once timeout_s has passed.
bool poll_until(double timeout_s, const std::function<bool()>& done);

// all_gather_v's result: the ranks' tensors concatenated along dim 0 in rank order, and how many
// rows (dim-0 entries) each rank gave.
struct Gathered {
  Tensor data;
  std::vector<int64_t> counts;
  // Where rank r's rows start in data.
  int64_t offset(int r) const;
};

// A collective as the consistency check and the messages see it.
struct Call {
  enum Op : int64_t { none, all_reduce, broadcast, all_gather_v, all_gather_host, barrier };
  Op op = none;
  int64_t seq = 0;            // this communicator's count of collectives, this one included
  DType dtype = DType::f32;
  Shape shape;
  int64_t extra = 0;          // broadcast: the root
  std::string str() const;    // "broadcast #3 of f32[4] from root 0"
};

class Communicator {
 public:
  virtual ~Communicator() = default;
  Communicator(const Communicator&) = delete;
  Communicator& operator=(const Communicator&) = delete;

  int rank() const { return rank_; }
  int world_size() const { return world_size_; }
  virtual std::string backend() const = 0;  // "threads", "mpi", "nccl"
  // Where the tensors this communicator takes must live (cpu, or the rank's cuda:i).
  virtual Device device() const = 0;
  // "rank 1 of 3 (threads)": for messages.
  std::string who() const;

  // t = the sum over ranks of every rank's t, in place. f32, i32 or i64.
  void all_reduce(Tensor& t);
  // all_reduce(t), started without ordering this rank's later work after it: on NCCL it is
  // queued on the communicator's stream while the compute stream goes on (backward, say);
  // complete_started() then orders everything after it. t must not be read or written until
  // then. The CPU backends finish it before returning, as all_reduce does.
  void all_reduce_start(Tensor& t);
  // Orders this rank's later work after every collective started so far (NCCL: the compute
  // stream waits for them, on the device); a no-op for the CPU backends.
  virtual void complete_started() {}
  // t = root's t on every rank, in place. Any dtype.
  void broadcast(Tensor& t, int root = 0);
  // Every rank's t concatenated along dim 0 in rank order, where t.size(0) may differ between
  // ranks (trailing dims and dtype may not): first exchanges the counts (all_gather_host), then
  // the rows. Any dtype.
  Gathered all_gather_v(const Tensor& t);
  // Same, when every rank already knows every rank's count (counts[r] = rank r's t.size(0)).
  Gathered all_gather_v(const Tensor& t, const std::vector<int64_t>& counts);
  // Every rank's `mine` (the same length on every rank) concatenated in rank order, on the host:
  // the small metadata of an exchange (row counts, flags, losses as bits). The CPU backends
  // gather it directly. NCCL sends it over its host channel (the thread group of one process's
  // ranks, or MPI under mpirun), so the host does not wait for the device; without one (a
  // torchrun launch) it goes through the device and the host waits (host_gather_waits()).
  std::vector<int64_t> all_gather_host(const std::vector<int64_t>& mine);
  virtual bool host_gather_waits() const { return false; }
  // Returns once every rank has called it (and, on NCCL, once this rank's queued collectives ran).
  void barrier();
  // Waits until this rank's queued collectives have finished (NCCL: on the device, within the
  // timeout); a no-op for the CPU backends, whose collectives finish before they return.
  virtual void synchronize() {}
  // Stops this communicator after an error elsewhere (e.g. another rank's thread failed): its
  // pending and later collectives fail with `reason` instead of waiting for the timeout. For the
  // thread backend this stops the whole group; for NCCL it is ncclCommAbort. The first reason stays.
  void abort(const std::string& reason);

 protected:
  Communicator(int rank, int world_size, bool checked_calls);

  // Backends see checked tensors (defined, on device(), an allowed dtype) and counts.
  // do_all_reduce may leave t's sum started (all_reduce then calls complete_started()).
  virtual void do_all_reduce(Tensor& t) = 0;
  virtual void do_broadcast(Tensor& t, int root) = 0;
  // out: [sum counts, trailing...], allocated.
  virtual void do_all_gather_v(const Tensor& t, const std::vector<int64_t>& counts, Tensor& out) = 0;
  // all_gather_host's, the consistency check's and barrier()'s exchange; the default all-gathers
  // on device() and waits for it.
  virtual std::vector<int64_t> do_all_gather_host(const std::vector<int64_t>& mine);

  // abort()'s part in the backend, run once, under the lock unless_broken() holds.
  virtual void do_abort(const std::string& reason) = 0;
  bool broken() const { return broken_.load(); }
  // Throws, naming abort()'s reason, once the communicator is broken.
  void throw_if_broken() const;
  // f() under abort()'s lock, or throws once broken: NCCL's abort frees its communicator, and no
  // call may then be inside one or about to enter one.
  template <class F>
  auto unless_broken(F&& f) {
    std::lock_guard lock(abort_m_);
    throw_if_broken();
    return f();
  }

  // The collective in progress (the last one called), and "all_reduce #3 on rank 0 of 2 (mpi)"
  // (NCCL's also names the GPU).
  const Call& current() const { return current_; }
  std::string where() const;
  // Bytes of one dim-0 row of t (all_gather_v's unit).
  static size_t row_bytes(const Tensor& t);
  // A failure that breaks the communicator: abort(msg), then throw msg.
  [[noreturn]] void fail_broken(const std::string& msg);
  // out = x[0] + x[1] + ... element by element, added in rank order, for `len` elements of f32,
  // i32 or i64. out may be one of the x. The CPU backends' sum.
  static void sum_in_rank_order(void* out, const std::vector<const void*>& x, int64_t len, DType dtype);

 private:
  void check_tensor(const char* op, const Tensor& t) const;
  // all_reduce(_start)'s checks of t, then enter().
  void enter_all_reduce(const char* op, const Tensor& t);
  // Numbers the call and, when checked, makes every rank agree on it.
  void enter(Call call, const std::vector<int64_t>* counts = nullptr);

  int rank_;
  int world_size_;
  bool checked_;
  Call current_;
  int64_t seq_ = 0;
  std::mutex abort_m_;
  std::atomic<bool> broken_{false};
  std::string reason_;  // written once, before broken_
};

}  // namespace curec::dist
