// The NCCL backend (CUDA builds only: the layer globs .cu files only with CUDA; nccl_stub.cpp
// stands in without it).
#include "train/distributed/nccl_communicator.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <mutex>
#include <numeric>
#include <set>
#include <thread>

#include "core/cuda_check.h"
#include "train/distributed/thread_group.h"
#include "core/cuda_context.h"

static_assert(sizeof(ncclUniqueId) == sizeof(curec::dist::NcclUniqueId), "NCCL_UNIQUE_ID_BYTES changed");

namespace curec::dist {

namespace {

using Clock = std::chrono::steady_clock;

Clock::time_point deadline_after(double seconds) {
  return Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
}

// Short spins first (most waits are microseconds), then sleeps.
void pause(int& spins) {
  if (++spins < 2000) std::this_thread::yield();
  else std::this_thread::sleep_for(std::chrono::microseconds(50));
}

ncclDataType_t nccl_type(DType d) {
  switch (d) {
    case DType::f32: return ncclFloat32;
    case DType::i32: return ncclInt32;
    case DType::i64: return ncclInt64;
    case DType::u8: return ncclUint8;
  }
  return ncclUint8;
}

ncclConfig_t nonblocking_config() {
  ncclConfig_t config = NCCL_CONFIG_INITIALIZER;
  config.blocking = 0;
  return config;
}

// Waits for a non-blocking communicator's pending call (init, finalize, a collective) to settle.
// poll(&state) asks NCCL (ncclCommGetAsyncError) and returns that call's result.
template <class Poll>
ncclResult_t settle_with(Poll&& poll, Clock::time_point deadline, bool& timed_out) {
  ncclResult_t state = ncclInProgress;
  int spins = 0;
  timed_out = false;
  while (true) {
    ncclResult_t r = poll(&state);
    if (r != ncclSuccess) return r;
    if (state != ncclInProgress) return state;
    if (Clock::now() > deadline) {
      timed_out = true;
      return ncclInProgress;
    }
    pause(spins);
  }
}

ncclResult_t settle(ncclComm_t comm, Clock::time_point deadline, bool& timed_out) {
  return settle_with([comm](ncclResult_t* state) { return ncclCommGetAsyncError(comm, state); }, deadline, timed_out);
}

class NcclCommunicator : public Communicator {
 public:
  NcclCommunicator(ncclComm_t comm, int rank, int world_size, int device, const NcclOptions& options,
                   std::shared_ptr<Communicator> host)
      : Communicator(rank, world_size, options.check_calls), comm_(comm), device_(device), timeout_s_(options.timeout_s), host_(std::move(host)) {
    cuda::DeviceGuard g(device_);
    CUREC_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
    CUREC_CUDA_CHECK(cudaEventCreateWithFlags(&ready_, cudaEventDisableTiming));
    CUREC_CUDA_CHECK(cudaEventCreateWithFlags(&done_, cudaEventDisableTiming));
    token_ = Tensor::zeros({1}, DType::f32, Device::cuda(device_));
  }

  ~NcclCommunicator() override {
    cuda::DeviceGuard g(device_);
    if (!broken_.load()) {
      // Flush and free; a finalize that does not settle in time is aborted instead.
      bool timed_out = false;
      ncclResult_t r = ncclCommFinalize(comm_);
      if (r == ncclInProgress || r == ncclSuccess) r = settle(comm_, deadline_after(timeout_s_), timed_out);
      if (r == ncclSuccess && !timed_out) ncclCommDestroy(comm_);
      else ncclCommAbort(comm_);
    }
    token_ = Tensor();
    cudaEventDestroy(ready_);
    cudaEventDestroy(done_);
    cudaStreamDestroy(stream_);
  }

  std::string backend() const override { return "nccl"; }
  Device device() const override { return Device::cuda(device_); }

  void abort(const std::string& reason) override {
    abort_comm(reason);
    if (host_) host_->abort(reason);  // nor may a rank wait in the host channel for a failed one
  }

  bool host_gather_waits() const override { return !host_; }

  void synchronize() override {
    cuda::DeviceGuard g(device_);
    cuda::count_host_sync(device_);  // a host wait, as cuda::synchronize counts them (test_step_budget)
    CUREC_CUDA_CHECK(cudaEventRecord(done_, stream_));
    wait_event(done_, "synchronize");
  }

 protected:
  std::vector<int64_t> do_all_gather_host(const std::vector<int64_t>& mine) override {
    if (!host_) return Communicator::do_all_gather_host(mine);
    throw_if_broken("all_gather_host");
    return host_->all_gather_host(mine);
  }

  void do_all_reduce(Tensor& t, ReduceOp op) override {
    if (t.numel() == 0) return;  // same shape on every rank: every rank skips it
    cuda::DeviceGuard g(device_);
    queue_all_reduce(t, op, "all_reduce");
    end();
  }

  void do_all_reduce_start(Tensor& t, ReduceOp op) override {
    if (t.numel() == 0) return;
    cuda::DeviceGuard g(device_);
    queue_all_reduce(t, op, "all_reduce_start");
    started_ = true;  // the compute stream waits in complete_started(), or at the next collective's end()
  }

  void complete_started() override {
    if (!started_) return;
    cuda::DeviceGuard g(device_);
    end();
  }

  void do_broadcast(Tensor& t, int root) override {
    if (t.nbytes() == 0) return;
    cuda::DeviceGuard g(device_);
    begin("broadcast");
    check(call("broadcast",
               [&] { return ncclBroadcast(t.raw_data(), t.raw_data(), t.nbytes(), ncclUint8, root, comm_, stream_); }),
          "ncclBroadcast");
    end();
  }

  void do_all_gather_v(const Tensor& t, const std::vector<int64_t>& counts, Tensor& out) override {
    const char* op = "all_gather_v";
    Shape trailing(t.shape().begin() + 1, t.shape().end());
    const size_t row_bytes = static_cast<size_t>(shape_numel(trailing)) * dtype_size(t.dtype());
    if (out.nbytes() == 0) return;
    cuda::DeviceGuard g(device_);
    begin(op);
    const bool equal = std::all_of(counts.begin(), counts.end(), [&](int64_t c) { return c == counts[0]; });
    if (equal) {
      check(call(op, [&] {
              return ncclAllGather(t.raw_data(), out.raw_data(), static_cast<size_t>(counts[0]) * row_bytes, ncclUint8,
                                   comm_, stream_);
            }),
            "ncclAllGather");
      end();
      return;
    }
    // Variable lengths: one broadcast per rank, into that rank's place, in one group (queued
    // under one lock, so that an abort cannot free the communicator between its calls).
    const char* failed = "ncclGroupEnd (all_gather_v)";
    const ncclResult_t res = call(op, [&] {
      ncclResult_t r0 = ncclGroupStart();
      if (r0 != ncclSuccess) {
        failed = "ncclGroupStart (all_gather_v)";
        return r0;
      }
      char* dst = static_cast<char*>(out.raw_data());
      for (int r = 0; r < world_size(); ++r) {
        size_t bytes = static_cast<size_t>(counts[r]) * row_bytes;
        if (bytes) {
          const void* src = r == rank() ? t.raw_data() : nullptr;
          ncclResult_t rb = ncclBroadcast(src, dst, bytes, ncclUint8, r, comm_, stream_);
          if (rb != ncclSuccess && rb != ncclInProgress) {
            ncclGroupEnd();
            failed = "ncclBroadcast (all_gather_v)";
            return rb;
          }
        }
        dst += bytes;
      }
      return ncclGroupEnd();
    });
    check(res, failed);
    end();
  }

  void do_barrier() override {
    cuda::DeviceGuard g(device_);
    begin("barrier");
    check(call("barrier",
               [&] {
                 return ncclAllReduce(token_.raw_data(), token_.raw_data(), 1, ncclFloat32, ncclSum, comm_, stream_);
               }),
          "ncclAllReduce (barrier)");
    end();
    synchronize();
  }

 private:
  // Orders one collective between the compute stream's work before it (begin) and after it (end).
  void begin(const char* op) {
    op_ = op;
    throw_if_broken(op);
    compute_ = cuda::current_stream(device_);
    CUREC_CUDA_CHECK(cudaEventRecord(ready_, compute_));
    CUREC_CUDA_CHECK(cudaStreamWaitEvent(stream_, ready_, 0));
  }
  void end() {
    CUREC_CUDA_CHECK(cudaEventRecord(done_, stream_));
    CUREC_CUDA_CHECK(cudaStreamWaitEvent(compute_, done_, 0));
    started_ = false;  // the stream runs in order: everything queued before is now waited for
  }
  void queue_all_reduce(Tensor& t, ReduceOp op, const char* name) {
    begin(name);
    check(call(name,
               [&] {
                 return ncclAllReduce(t.raw_data(), t.raw_data(), static_cast<size_t>(t.numel()), nccl_type(t.dtype()),
                                      op == ReduceOp::avg ? ncclAvg : ncclSum, comm_, stream_);
               }),
          "ncclAllReduce");
  }

  std::string where(const char* what) const {
    return detail::concat(what, " on ", who(), " on cuda:", device_);
  }

  // Runs NCCL calls on comm_ under m_, which abort_comm() also holds: LocalRanks aborts the other
  // ranks' communicators from the failing rank's thread, and ncclCommAbort frees the
  // communicator, so without the lock this rank's thread could be inside (or about to enter) a
  // call on a freed comm_. Throws, without calling, once the communicator is aborted. Only
  // non-blocking NCCL calls run under the lock (they return at once or with ncclInProgress).
  template <class F>
  ncclResult_t call(const char* what, F&& f) {
    {
      std::lock_guard lock(m_);
      if (!broken_.load()) return f();
    }
    throw_if_broken(what);
    return ncclInvalidUsage;  // not reached: throw_if_broken throws on a broken communicator
  }

  void throw_if_broken(const char* what) {
    if (broken_.load()) {
      std::lock_guard lock(m_);
      CUREC_FAIL(where(what), ": the communicator was aborted earlier (", reason_,
                 "); make new communicators on every rank to continue");
    }
  }

  // The one check every NCCL return code goes through: waits for ncclInProgress to settle, and
  // on an error or a timeout aborts the communicator and throws.
  void check(ncclResult_t r, const char* call_name) {
    if (r == ncclSuccess) return;
    bool timed_out = false;
    if (r == ncclInProgress) {
      auto poll = [&](ncclResult_t* state) {
        return call(call_name, [&] { return ncclCommGetAsyncError(comm_, state); });
      };
      r = settle_with(poll, deadline_after(timeout_s_), timed_out);
      if (r == ncclSuccess) return;
    }
    std::string msg;
    if (timed_out)
      msg = detail::concat(where(op_), ": ", call_name, " did not complete within ", timeout_s_,
                           " s; a rank did not arrive (every rank must call the same collectives in the same order); "
                           "the communicator was aborted (ncclCommAbort). Raise the timeout with CUREC_DIST_TIMEOUT_S "
                           "if a rank is merely slow");
    else
      msg = detail::concat(where(op_), ": ", call_name, " failed: ", ncclGetErrorString(r), " (",
                           ncclGetLastError(comm_), "); the communicator was aborted (ncclCommAbort). Every rank must pass the same sizes and "
                           "dtypes; rerun with NCCL_DEBUG=WARN for NCCL's own report");
    abort_comm(msg);
    CUREC_FAIL(msg);
  }

  // Waits for `event` on the host, watching NCCL's asynchronous errors, within the timeout.
  void wait_event(cudaEvent_t event, const char* what) {
    throw_if_broken(what);
    auto deadline = deadline_after(timeout_s_);
    int spins = 0;
    while (true) {
      cudaError_t e = cudaEventQuery(event);
      if (e == cudaSuccess) {
        // An abort from another thread also ends the stream's collectives, with partial results.
        throw_if_broken(what);
        return;
      }
      if (e != cudaErrorNotReady) {
        std::string msg = detail::concat(where(what), ": waiting for the communicator's stream failed: ",
                                         cudaGetErrorString(e), "; the communicator was aborted (ncclCommAbort)");
        abort_comm(msg);
        CUREC_FAIL(msg);
      }
      ncclResult_t async = ncclSuccess;
      ncclResult_t q = call(what, [&] { return ncclCommGetAsyncError(comm_, &async); });
      if (q != ncclSuccess) check(q, "ncclCommGetAsyncError");
      if (async != ncclSuccess && async != ncclInProgress) check(async, "a queued collective (ncclCommGetAsyncError)");
      if (Clock::now() > deadline) {
        std::string msg = detail::concat(where(what), ": the queued collectives (last: ", op_, ") did not finish within ",
                                         timeout_s_, " s; a rank did not arrive (every rank must call the same "
                                         "collectives in the same order); the communicator was aborted (ncclCommAbort). "
                                         "Raise the timeout with CUREC_DIST_TIMEOUT_S if a rank is merely slow");
        abort_comm(msg);
        CUREC_FAIL(msg);
      }
      pause(spins);
    }
  }

  void abort_comm(const std::string& reason) {
    std::lock_guard lock(m_);
    if (broken_.load()) return;
    reason_ = reason;
    broken_.store(true);
    ncclCommAbort(comm_);  // ends kernels stuck waiting for a peer; the comm is gone afterwards
  }

  ncclComm_t comm_;
  int device_;
  double timeout_s_;
  std::shared_ptr<Communicator> host_;  // CPU ranks beside these, for all_gather_host (may be null)
  cudaStream_t stream_ = nullptr, compute_ = nullptr;
  cudaEvent_t ready_ = nullptr, done_ = nullptr;
  Tensor token_;  // barrier's one-element all-reduce
  const char* op_ = "init";
  bool started_ = false;  // all_reduce_start queued work the compute stream does not yet wait for
  std::mutex m_;
  std::atomic<bool> broken_{false};
  std::string reason_;
};

void check_timeout(double timeout_s, const char* what) {
  CUREC_CHECK(timeout_s > 0, what, ": timeout_s must be > 0, got ", timeout_s);
}

void check_device(int device, const char* what) {
  int n = cuda::device_count();
  CUREC_CHECK(device >= 0 && device < n, what, ": cuda:", device, " does not exist (this machine has ", n, " GPU",
              n == 1 ? "" : "s", "); pass devices 0..", n - 1);
}

}  // namespace

bool nccl_built() { return true; }

NcclUniqueId nccl_unique_id() {
  ncclUniqueId id;
  CUREC_NCCL_CHECK(ncclGetUniqueId(&id));
  NcclUniqueId out;
  std::memcpy(out.bytes.data(), &id, sizeof(id));
  return out;
}

std::vector<std::unique_ptr<Communicator>> nccl_init_all(const std::vector<int>& devices, NcclOptions options) {
  check_timeout(options.timeout_s, "nccl_init_all");
  CUREC_CHECK(!devices.empty(), "nccl_init_all: no devices given; pass the GPUs to use, e.g. {0, 1}");
  std::set<int> seen;
  for (int d : devices) {
    check_device(d, "nccl_init_all");
    CUREC_CHECK(seen.insert(d).second, "nccl_init_all: cuda:", d, " appears twice; NCCL takes one rank per GPU");
  }
  const int n = static_cast<int>(devices.size());
  ncclUniqueId id;
  CUREC_NCCL_CHECK(ncclGetUniqueId(&id));
  std::vector<ncclComm_t> comms(static_cast<size_t>(n), nullptr);
  ncclConfig_t config = nonblocking_config();
  CUREC_NCCL_CHECK(ncclGroupStart());
  ncclResult_t first_error = ncclSuccess;
  for (int i = 0; i < n; ++i) {
    cuda::DeviceGuard g(devices[i]);
    ncclResult_t r = ncclCommInitRankConfig(&comms[i], n, id, i, &config);
    if (r != ncclSuccess && r != ncclInProgress && first_error == ncclSuccess) first_error = r;
  }
  ncclResult_t end = ncclGroupEnd();
  if (first_error == ncclSuccess && end != ncclSuccess && end != ncclInProgress) first_error = end;
  auto deadline = deadline_after(options.timeout_s);
  bool timed_out = false;
  for (int i = 0; i < n && first_error == ncclSuccess && !timed_out; ++i) {
    if (!comms[i]) continue;
    ncclResult_t r = settle(comms[i], deadline, timed_out);
    if (r != ncclSuccess && !timed_out) first_error = r;
  }
  if (first_error != ncclSuccess || timed_out) {
    std::string last = comms[0] ? ncclGetLastError(comms[0]) : "";
    for (ncclComm_t c : comms)
      if (c) ncclCommAbort(c);
    CUREC_FAIL("nccl_init_all: making ", n, " NCCL communicators on cuda:", devices.front(), "..cuda:", devices.back(),
               timed_out ? detail::concat(" did not finish within ", options.timeout_s, " s")
                         : detail::concat(" failed: ", ncclGetErrorString(first_error), " (", last, ")"),
               "; check that the GPUs are free and visible (CUDA_VISIBLE_DEVICES), and rerun with NCCL_DEBUG=WARN");
  }
  // The ranks' host channel: a thread group of as many ranks, each kept alive by its NCCL rank.
  auto group = std::make_shared<ThreadGroup>(n, options.timeout_s);
  std::vector<std::unique_ptr<Communicator>> out;
  for (int i = 0; i < n; ++i)
    out.push_back(std::make_unique<NcclCommunicator>(comms[i], i, n, devices[i], options,
                                                     std::shared_ptr<Communicator>(group, &group->communicator(i))));
  return out;
}

std::unique_ptr<Communicator> nccl_init_rank(const NcclUniqueId& uid, int rank, int world_size, int device,
                                             NcclOptions options) {
  check_timeout(options.timeout_s, "nccl_init_rank");
  CUREC_CHECK(world_size >= 1 && rank >= 0 && rank < world_size, "nccl_init_rank: rank ", rank,
              " out of range for world size ", world_size);
  check_device(device, "nccl_init_rank");
  if (const auto& h = options.host_channel)
    CUREC_CHECK(h->device().is_cpu() && h->rank() == rank && h->world_size() == world_size, "nccl_init_rank: the host "
                "channel is ", h->who(), " on ", h->device().str(), ", not rank ", rank, " of ", world_size,
                " on the CPU; pass the CPU communicator of the same ranks (MPI's), or none");
  ncclUniqueId id;
  std::memcpy(&id, uid.bytes.data(), sizeof(id));
  ncclConfig_t config = nonblocking_config();
  ncclComm_t comm = nullptr;
  cuda::DeviceGuard g(device);
  ncclResult_t r = ncclCommInitRankConfig(&comm, world_size, id, rank, &config);
  bool timed_out = false;
  if ((r == ncclSuccess || r == ncclInProgress) && comm) r = settle(comm, deadline_after(options.timeout_s), timed_out);
  if (r != ncclSuccess || timed_out) {
    std::string last = comm ? ncclGetLastError(comm) : "";
    if (comm) ncclCommAbort(comm);
    CUREC_FAIL("nccl_init_rank: rank ", rank, " of ", world_size, " on cuda:", device,
               timed_out ? detail::concat(" did not meet the other ranks within ", options.timeout_s,
                                          " s (are all ", world_size, " processes started, with the same id?)")
                         : detail::concat(" failed: ", ncclGetErrorString(r), " (", last, ")"),
               "; rerun with NCCL_DEBUG=WARN for NCCL's report");
  }
  return std::make_unique<NcclCommunicator>(comm, rank, world_size, device, options, options.host_channel);
}

}  // namespace curec::dist
