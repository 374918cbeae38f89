// The NCCL backend (CUDA builds only: the layer globs .cu files only with CUDA; nccl_stub.cpp
// stands in without it).
#include "train/distributed/nccl_communicator.h"

#include <algorithm>
#include <cstring>

#include "core/cuda_check.h"
#include "core/cuda_context.h"
#include "train/distributed/local_ranks.h"

static_assert(sizeof(ncclUniqueId) == sizeof(curec::dist::NcclUniqueId), "NCCL_UNIQUE_ID_BYTES changed");

namespace curec::dist {

namespace {

ncclDataType_t nccl_type(DType d) {  // all_reduce's dtypes; the other collectives move bytes
  return d == DType::f32 ? ncclFloat32 : d == DType::i32 ? ncclInt32 : ncclInt64;
}

bool ok(ncclResult_t r) { return r == ncclSuccess || r == ncclInProgress; }

// Waits for a non-blocking communicator's pending call (init, finalize, a collective) to settle.
// poll(&state) asks NCCL (ncclCommGetAsyncError) and returns that call's result.
template <class Poll>
ncclResult_t settle_with(Poll&& poll, double timeout_s, bool& timed_out) {
  ncclResult_t r = ncclSuccess, state = ncclInProgress;
  timed_out = !poll_until(timeout_s, [&] { return (r = poll(&state)) != ncclSuccess || state != ncclInProgress; });
  return r != ncclSuccess ? r : state;
}

ncclResult_t settle(ncclComm_t comm, double timeout_s, bool& timed_out) {
  return settle_with([comm](ncclResult_t* state) { return ncclCommGetAsyncError(comm, state); }, timeout_s, timed_out);
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
  }

  ~NcclCommunicator() override {
    cuda::DeviceGuard g(device_);
    if (!broken()) {
      // Flush and free; a finalize that does not settle in time is aborted instead.
      bool timed_out = false;
      ncclResult_t r = ncclCommFinalize(comm_);
      if (ok(r)) r = settle(comm_, timeout_s_, timed_out);
      if (r == ncclSuccess && !timed_out) ncclCommDestroy(comm_);
      else ncclCommAbort(comm_);
    }
    cudaEventDestroy(ready_);
    cudaEventDestroy(done_);
    cudaStreamDestroy(stream_);
  }

  std::string backend() const override { return "nccl"; }
  Device device() const override { return Device::cuda(device_); }

  // ncclCommAbort ends kernels stuck waiting for a peer; the comm is gone afterwards. Nor may a
  // rank wait in the host channel for a failed one.
  void do_abort(const std::string& reason) override {
    ncclCommAbort(comm_);
    if (host_) host_->abort(reason);
  }

  bool host_gather_waits() const override { return !host_; }

  void synchronize() override {
    cuda::DeviceGuard g(device_);
    cuda::count_host_sync(device_);  // a host wait, as cuda::synchronize counts them (test_step_budget)
    CUREC_CUDA_CHECK(cudaEventRecord(done_, stream_));
    wait_event(done_);
  }

 protected:
  std::vector<int64_t> do_all_gather_host(const std::vector<int64_t>& mine) override {
    if (!host_) return Communicator::do_all_gather_host(mine);
    throw_if_broken();
    return host_->all_gather_host(mine);
  }

  void do_all_reduce(Tensor& t) override {
    if (t.numel() == 0) return;  // same shape on every rank: every rank skips it
    queue("ncclAllReduce", false, [&] {
      return ncclAllReduce(t.raw_data(), t.raw_data(), static_cast<size_t>(t.numel()), nccl_type(t.dtype()),
                           ncclSum, comm_, stream_);
    });
  }

  void complete_started() override {
    if (!started_) return;
    cuda::DeviceGuard g(device_);
    end();
  }

  void do_broadcast(Tensor& t, int root) override {
    if (t.nbytes() == 0) return;
    queue("ncclBroadcast", true,
          [&] { return ncclBroadcast(t.raw_data(), t.raw_data(), t.nbytes(), ncclUint8, root, comm_, stream_); });
  }

  void do_all_gather_v(const Tensor& t, const std::vector<int64_t>& counts, Tensor& out) override {
    const size_t row = row_bytes(t);
    if (out.nbytes() == 0) return;
    // One broadcast per rank, into that rank's place, in one group (queued under one lock, so that
    // an abort cannot free the communicator between its calls): the counts may differ.
    queue("ncclGroupStart/ncclBroadcast/ncclGroupEnd (all_gather_v)", true, [&] {
      ncclResult_t r = ncclGroupStart();
      char* dst = static_cast<char*>(out.raw_data());
      for (int i = 0; i < world_size() && ok(r); ++i) {
        const size_t bytes = static_cast<size_t>(counts[i]) * row;
        if (bytes) r = ncclBroadcast(i == rank() ? t.raw_data() : nullptr, dst, bytes, ncclUint8, i, comm_, stream_);
        dst += bytes;
      }
      const ncclResult_t end = ncclGroupEnd();  // always closes the group, even after a failed call
      return ok(r) ? end : r;
    });
  }

 private:
  // Every NCCL call on comm_ runs under abort()'s lock (unless_broken): LocalRanks aborts the
  // other ranks' communicators from the failing rank's thread, and ncclCommAbort frees comm_.
  // Only non-blocking NCCL calls run under the lock (they return at once or with ncclInProgress).
  //
  // Queues one collective (nccl() makes the NCCL calls) on the communicator's stream, after the
  // compute stream's work so far; with `complete` the compute stream then waits for it (end()),
  // else it is started (all_reduce_start) and complete_started() or the next end() waits.
  template <class F>
  void queue(const char* name, bool complete, F&& nccl) {
    throw_if_broken();
    cuda::DeviceGuard g(device_);
    compute_ = cuda::current_stream(device_);
    CUREC_CUDA_CHECK(cudaEventRecord(ready_, compute_));
    CUREC_CUDA_CHECK(cudaStreamWaitEvent(stream_, ready_, 0));
    check(unless_broken(nccl), name);
    if (complete) end();
    else started_ = true;
  }
  void end() {
    CUREC_CUDA_CHECK(cudaEventRecord(done_, stream_));
    CUREC_CUDA_CHECK(cudaStreamWaitEvent(compute_, done_, 0));
    started_ = false;  // the stream runs in order: everything queued before is now waited for
  }

  [[noreturn]] void timed_out(const char* what) {
    fail_broken(detail::concat(where(), ": ", what, " did not complete within ", timeout_s_,
                               " s; a rank did not arrive (every rank must call the same collectives in the same "
                               "order); the communicator was aborted (ncclCommAbort). Raise the timeout with "
                               "CUREC_DIST_TIMEOUT_S if a rank is merely slow"));
  }

  // The one check every NCCL return code goes through: waits for ncclInProgress to settle, and
  // on an error or a timeout aborts the communicator and throws.
  void check(ncclResult_t r, const char* call_name) {
    bool late = false;
    if (r == ncclInProgress)
      r = settle_with([&](ncclResult_t* s) { return unless_broken([&] { return ncclCommGetAsyncError(comm_, s); }); },
                      timeout_s_, late);
    if (r == ncclSuccess) return;
    if (late) timed_out(call_name);
    fail_broken(detail::concat(where(), ": ", call_name, " failed: ", ncclGetErrorString(r), " (",
                               ncclGetLastError(comm_), "); the communicator was aborted (ncclCommAbort). Every rank "
                               "must pass the same sizes and dtypes; rerun with NCCL_DEBUG=WARN for NCCL's own report"));
  }

  // Waits for `event` on the host, watching NCCL's asynchronous errors, within the timeout.
  void wait_event(cudaEvent_t event) {
    throw_if_broken();
    const bool done = poll_until(timeout_s_, [&] {
      const cudaError_t e = cudaEventQuery(event);
      if (e == cudaSuccess) return true;
      if (e != cudaErrorNotReady)
        fail_broken(detail::concat(where(), ": waiting for the communicator's stream failed: ", cudaGetErrorString(e),
                                   "; the communicator was aborted (ncclCommAbort)"));
      ncclResult_t async = ncclSuccess;
      check(unless_broken([&] { return ncclCommGetAsyncError(comm_, &async); }), "ncclCommGetAsyncError");
      if (async != ncclInProgress) check(async, "a queued collective (ncclCommGetAsyncError)");
      return false;
    });
    if (!done) timed_out("the queued collectives");
    throw_if_broken();  // an abort from another thread also ends the stream's collectives, with partial results
  }

  ncclComm_t comm_;
  int device_;
  double timeout_s_;
  std::shared_ptr<Communicator> host_;  // CPU ranks beside these, for all_gather_host (may be null)
  cudaStream_t stream_ = nullptr, compute_ = nullptr;
  cudaEvent_t ready_ = nullptr, done_ = nullptr;
  bool started_ = false;  // all_reduce_start queued work the compute stream does not yet wait for
};

// Makes the communicators of ranks first.. of world_size, rank first + i on devices[i], in one NCCL
// group (as ncclCommInitAll, with the non-blocking config), and waits for them to settle; on an
// error or the timeout aborts them all and throws, naming `what`.
std::vector<ncclComm_t> init_comms(const ncclUniqueId& id, int first, int world_size, const std::vector<int>& devices,
                                   double timeout_s, const std::string& what) {
  CUREC_CHECK(timeout_s > 0, what, ": timeout_s must be > 0, got ", timeout_s);
  const int gpus = cuda::device_count();
  for (size_t i = 0; i < devices.size(); ++i) {
    CUREC_CHECK(devices[i] >= 0 && devices[i] < gpus, what, ": cuda:", devices[i], " does not exist (this machine has ",
                gpus, " GPU", gpus == 1 ? "" : "s", "); pass devices 0..", gpus - 1);
    CUREC_CHECK(std::find(devices.begin(), devices.begin() + i, devices[i]) == devices.begin() + i, what, ": cuda:",
                devices[i], " appears twice; NCCL takes one rank per GPU");
  }
  ncclConfig_t config = NCCL_CONFIG_INITIALIZER;
  config.blocking = 0;
  std::vector<ncclComm_t> comms(devices.size(), nullptr);
  ncclResult_t r = ncclGroupStart();
  for (size_t i = 0; i < devices.size() && ok(r); ++i) {
    cuda::DeviceGuard g(devices[i]);
    r = ncclCommInitRankConfig(&comms[i], world_size, id, first + static_cast<int>(i), &config);
  }
  const ncclResult_t end = ncclGroupEnd();
  if (ok(r)) r = end;
  bool timed_out = false;
  for (size_t i = 0; i < comms.size() && ok(r) && !timed_out; ++i)
    if (comms[i]) r = settle(comms[i], timeout_s, timed_out);
  if (r == ncclSuccess && !timed_out) return comms;
  const std::string last = comms[0] ? ncclGetLastError(comms[0]) : "";
  for (ncclComm_t c : comms)
    if (c) ncclCommAbort(c);
  CUREC_FAIL(what, timed_out ? detail::concat(" did not finish within ", timeout_s, " s (are all ", world_size,
                                              " ranks started, with the same id?)")
                             : detail::concat(" failed: ", ncclGetErrorString(r), " (", last, ")"),
             "; check that the GPUs are free and visible (CUDA_VISIBLE_DEVICES), and rerun with NCCL_DEBUG=WARN for "
             "NCCL's report");
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
  CUREC_CHECK(!devices.empty(), "nccl_init_all: no devices given; pass the GPUs to use, e.g. {0, 1}");
  const int n = static_cast<int>(devices.size());
  ncclUniqueId id;
  CUREC_NCCL_CHECK(ncclGetUniqueId(&id));
  std::vector<ncclComm_t> comms = init_comms(id, 0, n, devices, options.timeout_s,
                                             detail::concat("nccl_init_all: making ", n, " NCCL communicators on cuda:",
                                                            devices.front(), "..cuda:", devices.back()));
  // The ranks' host channel: as many CPU ranks in this process, each kept alive by its NCCL rank.
  auto host = std::make_shared<LocalRanks>(n, Device::cpu(), options.timeout_s);
  std::vector<std::unique_ptr<Communicator>> out;
  for (int i = 0; i < n; ++i)
    out.push_back(std::make_unique<NcclCommunicator>(comms[i], i, n, devices[i], options,
                                                     std::shared_ptr<Communicator>(host, &host->communicator(i))));
  return out;
}

std::unique_ptr<Communicator> nccl_init_rank(const NcclUniqueId& uid, int rank, int world_size, int device,
                                             NcclOptions options) {
  CUREC_CHECK(world_size >= 1 && rank >= 0 && rank < world_size, "nccl_init_rank: rank ", rank,
              " out of range for world size ", world_size);
  if (const auto& h = options.host_channel)
    CUREC_CHECK(h->device().is_cpu() && h->rank() == rank && h->world_size() == world_size, "nccl_init_rank: the host "
                "channel is ", h->who(), " on ", h->device().str(), ", not rank ", rank, " of ", world_size,
                " on the CPU; pass the CPU communicator of the same ranks (MPI's), or none");
  ncclUniqueId id;
  std::memcpy(&id, uid.bytes.data(), sizeof(id));
  ncclComm_t comm = init_comms(id, rank, world_size, {device}, options.timeout_s,
                               detail::concat("nccl_init_rank: rank ", rank, " of ", world_size, " on cuda:", device))[0];
  return std::make_unique<NcclCommunicator>(comm, rank, world_size, device, options, options.host_channel);
}

}  // namespace curec::dist
