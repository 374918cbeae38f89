// The NCCL stand-in: NCCL's API across the emulated devices of this one process, with NCCL's
// documented semantics (nccl.h), for ranks on threads or driven from one thread in a group.
//
// Differences from NCCL worth knowing: a call completes (the data moved) before it, or the
// outermost ncclGroupEnd around it, returns; on a non-blocking communicator it returns
// ncclInProgress while other ranks have not yet arrived, and ncclCommGetAsyncError says
// ncclSuccess once they did and the data moved; calls whose ranks disagree fail with
// ncclInvalidUsage where NCCL would hang; waits give up after $CUREC_EMU_NCCL_TIMEOUT_S.
#include <nccl.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "nccl_clique.h"
#include "state.h"

using namespace curec_emu::nccl;

namespace {

struct Queued {
  ncclComm* comm;
  bool join;
  Call call;
};
// A thread's calls between ncclGroupStart and the outermost ncclGroupEnd.
struct Group {
  int depth = 0;
  std::vector<Queued> ops;
  ncclResult_t error = ncclSuccess;  // a call refused inside the group fails ncclGroupEnd too
};
thread_local Group tl_group;

constexpr char kMagic[8] = {'c', 'u', 'r', 'e', 'c', 'e', 'm', 'u'};

ncclResult_t group_error(ncclResult_t code) {
  if (tl_group.depth > 0 && tl_group.error == ncclSuccess) tl_group.error = code;
  return code;
}

ncclResult_t refuse(ncclComm* comm, ncclResult_t code, const std::string& message) {
  return group_error(fail(comm, code, message));
}

// Posts every call first (one thread may drive several ranks), then waits for those of blocking
// communicators; a non-blocking one's calls are claimed by ncclCommGetAsyncError.
ncclResult_t run_group(std::unique_lock<std::mutex>& lk, const std::vector<Queued>& ops) {
  struct Wait {
    ncclComm* comm;
    bool join;
    Key key;
    Clock::time_point until;
    std::string what;
  };
  Pins pins;
  std::vector<Wait> waits;
  ncclResult_t first = ncclSuccess;
  bool in_progress = false;
  auto note = [&](ncclResult_t r) {
    if (first == ncclSuccess && r != ncclSuccess) first = r;
  };
  for (const Queued& q : ops) {
    if (!live(q.comm)) {
      note(fail(nullptr, ncclInvalidArgument, "ncclGroupEnd: a communicator of the group was destroyed or aborted "
                                              "before the group ended"));
      continue;
    }
    pins.add(q.comm);
    if (q.join) {
      if (ncclResult_t r = post_join(q.comm)) note(r);
      else if (q.comm->blocking) waits.push_back({q.comm, true, {}, {}, ""});
      else in_progress = in_progress || !q.comm->clique->complete();
      continue;
    }
    if (ncclResult_t r = check_clique(q.comm)) {
      note(r);
      continue;
    }
    const Key key = post_call(q.comm, q.call);
    if (is_done(q.comm, key)) {
      note(claim(q.comm, key));
    } else if (q.comm->blocking) {
      waits.push_back({q.comm, false, key, deadline(), name(q.call.kind)});
    } else {
      q.comm->pending.push_back({key, deadline(), name(q.call.kind)});
      in_progress = true;
    }
  }
  for (const Wait& w : waits) note(w.join ? await_join(lk, w.comm) : await_call(lk, w.comm, w.key, w.until, w.what));
  if (first != ncclSuccess) return first;
  return in_progress ? ncclInProgress : ncclSuccess;
}

ncclResult_t submit(std::unique_lock<std::mutex>& lk, const Queued& q) {
  if (tl_group.depth > 0) {
    tl_group.ops.push_back(q);
    return ncclSuccess;
  }
  return run_group(lk, {q});
}

ncclResult_t usable(ncclComm* comm, const std::string& fn) {
  if (!live(comm))
    return refuse(nullptr, ncclInvalidArgument, fn + ": comm is not a live communicator (NULL, destroyed or aborted)");
  if (comm->error != ncclSuccess)
    return refuse(comm, comm->error, fn + " on " + who(comm) + ": the communicator failed earlier: " + comm->failure);
  if (ncclResult_t r = check_clique(comm)) return group_error(r);
  if (!comm->clique)
    return refuse(comm, ncclInvalidUsage, fn + " on " + who(comm) + ": the communicator's init is still queued in this "
                  "thread's ncclGroupStart/ncclGroupEnd; NCCL takes inits and collectives in separate groups");
  if (comm->finalized)
    return refuse(comm, ncclInvalidUsage, fn + " on " + who(comm) + ": called after ncclCommFinalize");
  return ncclSuccess;
}

// NCCL's buffers are device memory of the communicator's device, over the whole span it touches.
ncclResult_t check_buffer(ncclComm* comm, const std::string& fn, const char* what, const void* p, size_t bytes) {
  if (bytes == 0) return ncclSuccess;
  const std::string where = fn + " on " + who(comm) + ": ";
  if (!curec_emu::is_device_range(p, bytes))
    return refuse(comm, ncclInvalidArgument, where + curec_emu::describe_bad_range(p, bytes, fn + "'s " + what));
  const auto a = curec_emu::find_allocation(p);
  if (a && a->device != comm->device)
    return refuse(comm, ncclInvalidArgument, where + what + " is memory of cuda:" + std::to_string(a->device) +
                  ", not of the communicator's device cuda:" + std::to_string(comm->device));
  return ncclSuccess;
}

ncclResult_t collective(ncclComm* comm, const Call& c) {
  auto lk = lock();
  const std::string fn = name(c.kind);
  if (ncclResult_t r = usable(comm, fn)) return r;
  const size_t size = type_size(c.type);
  if (size == 0)
    return refuse(comm, ncclInvalidArgument, fn + ": " + type_name(c.type) + " is not a data type the emulated NCCL "
                  "handles");
  const bool reduces = c.kind == Kind::all_reduce || c.kind == Kind::reduce || c.kind == Kind::reduce_scatter;
  if (reduces && (c.op < 0 || c.op >= ncclNumOps))
    return refuse(comm, ncclInvalidArgument, fn + ": " + op_name(c.op) + " is not emulated (only ncclSum, ncclProd, "
                  "ncclMax, ncclMin and ncclAvg)");
  const bool rooted = c.kind == Kind::reduce || c.kind == Kind::broadcast;
  const bool p2p = c.kind == Kind::send || c.kind == Kind::recv;
  if ((rooted || p2p) && (c.root < 0 || c.root >= comm->nranks))
    return refuse(comm, ncclInvalidArgument, fn + " on " + who(comm) + ": " + (p2p ? "peer " : "root ") +
                  std::to_string(c.root) + " is not a rank of the communicator");
  const auto n = static_cast<size_t>(comm->nranks);
  if (c.count > SIZE_MAX / size / n)
    return refuse(comm, ncclInvalidArgument, fn + ": count " + std::to_string(c.count) + " is too large");
  // The spans the buffers must cover (nccl.h); a rooted call reads or writes only the root's.
  const bool root = c.root == comm->rank;
  const size_t bytes = c.count * size;
  size_t send_bytes = bytes, recv_bytes = bytes;
  if (c.kind == Kind::all_gather) recv_bytes = bytes * n;
  if (c.kind == Kind::reduce_scatter) send_bytes = bytes * n;
  if ((c.kind == Kind::broadcast && !root) || c.kind == Kind::recv) send_bytes = 0;
  if ((c.kind == Kind::reduce && !root) || c.kind == Kind::send) recv_bytes = 0;
  if (ncclResult_t r = check_buffer(comm, fn, "sendbuff", c.send, send_bytes)) return r;
  if (ncclResult_t r = check_buffer(comm, fn, "recvbuff", c.recv, recv_bytes)) return r;
  return submit(lk, {comm, false, c});
}

ncclResult_t init(ncclComm_t* out, int nranks, const ncclUniqueId& id, int rank, const ncclConfig_t* config) {
  auto lk = lock();
  const std::string fn = config ? "ncclCommInitRankConfig" : "ncclCommInitRank";
  if (!out) return refuse(nullptr, ncclInvalidArgument, fn + ": comm is NULL");
  *out = nullptr;
  if (nranks < 1 || rank < 0 || rank >= nranks)
    return refuse(nullptr, ncclInvalidArgument, fn + ": rank " + std::to_string(rank) + " is not in 0.." +
                  std::to_string(nranks - 1) + " (nranks " + std::to_string(nranks) + ")");
  bool blocking = true;
  if (config) {
    if (config->magic != 0xcafebeef || config->size != sizeof(ncclConfig_t))
      return refuse(nullptr, ncclInvalidArgument, fn + ": config was not initialised with NCCL_CONFIG_INITIALIZER");
    if (config->blocking != NCCL_CONFIG_UNDEF_INT) blocking = config->blocking != 0;
  }
  const int device = curec_emu::current_device();
  if (device < 0 || device >= curec_emu::device_count())
    return refuse(nullptr, ncclInvalidArgument, fn + ": the current device cuda:" + std::to_string(device) +
                  " does not exist ($CUREC_EMU_DEVICES gives " + std::to_string(curec_emu::device_count()) + ")");
  ncclComm* comm = make_comm();
  comm->id.assign(id.internal, sizeof id.internal);
  comm->rank = rank;
  comm->nranks = nranks;
  comm->device = device;
  comm->blocking = blocking;
  *out = comm;  // also for a failed blocking init: ncclGetLastError and ncclCommAbort take it
  return submit(lk, {comm, true, {}});
}

}  // namespace

namespace curec_emu::nccl {

std::string id_origin(const std::string& id) {
  if (std::memcmp(id.data(), kMagic, sizeof kMagic) != 0)
    return "; this unique id was not made by the emulated ncclGetUniqueId (by another process's NCCL?)";
  if (id[8] == 'a') return "; the unique id names NCCL_COMM_ID=" + std::string(id.c_str() + 16) + ", which every "
                           "process of a launch uses";
  int pid = 0;
  std::memcpy(&pid, id.data() + 12, sizeof pid);
  if (pid != static_cast<int>(getpid()))
    return "; the unique id was made by another process (pid " + std::to_string(pid) + ")";
  return "";
}

}  // namespace curec_emu::nccl

extern "C" {

ncclResult_t ncclGetVersion(int* version) {
  if (!version) return ncclInvalidArgument;
  *version = NCCL_VERSION_CODE;
  return ncclSuccess;
}

const char* ncclGetErrorString(ncclResult_t result) {
  switch (result) {
    case ncclSuccess: return "no error";
    case ncclUnhandledCudaError: return "unhandled cuda error (ncclGetLastError says more)";
    case ncclSystemError: return "unhandled system error (ncclGetLastError says more)";
    case ncclInternalError: return "internal error (ncclGetLastError says more)";
    case ncclInvalidArgument: return "invalid argument (ncclGetLastError says more)";
    case ncclInvalidUsage: return "invalid usage (ncclGetLastError says more)";
    case ncclRemoteError: return "remote process exited or there was a network error (ncclGetLastError says more)";
    case ncclInProgress: return "NCCL operation in progress";
    default: return "unknown result code";
  }
}

const char* ncclGetLastError(ncclComm_t comm) {
  thread_local std::string copy;  // the shared message may change under other threads
  auto lk = lock();
  copy = live(comm) && !comm->last_error.empty() ? comm->last_error : last_error();
  return copy.c_str();
}

// With NCCL_COMM_ID=host:port every rank gets the same id (NCCL's bootstrap at that address).
ncclResult_t ncclGetUniqueId(ncclUniqueId* uniqueId) {
  if (!uniqueId) return ncclInvalidArgument;
  static std::atomic<uint64_t> made{0};
  std::memset(uniqueId->internal, 0, sizeof uniqueId->internal);
  std::memcpy(uniqueId->internal, kMagic, sizeof kMagic);
  if (const char* addr = std::getenv("NCCL_COMM_ID"); addr && *addr) {
    uniqueId->internal[8] = 'a';
    std::strncpy(uniqueId->internal + 16, addr, sizeof uniqueId->internal - 17);
    return ncclSuccess;
  }
  uniqueId->internal[8] = 'p';
  const int pid = static_cast<int>(getpid());
  const uint64_t n = made.fetch_add(1) + 1, salt = std::random_device{}();
  std::memcpy(uniqueId->internal + 12, &pid, sizeof pid);
  std::memcpy(uniqueId->internal + 16, &n, sizeof n);
  std::memcpy(uniqueId->internal + 24, &salt, sizeof salt);
  return ncclSuccess;
}

ncclResult_t ncclCommInitRank(ncclComm_t* comm, int nranks, ncclUniqueId commId, int rank) {
  return init(comm, nranks, commId, rank, nullptr);
}

ncclResult_t ncclCommInitRankConfig(ncclComm_t* comm, int nranks, ncclUniqueId commId, int rank, ncclConfig_t* config) {
  return init(comm, nranks, commId, rank, config);
}

ncclResult_t ncclCommInitAll(ncclComm_t* comm, int ndev, const int* devlist) {
  if (!comm || ndev < 1) {
    auto lk = lock();
    return fail(nullptr, ncclInvalidArgument, "ncclCommInitAll: comm is NULL or ndev < 1");
  }
  ncclUniqueId id;
  ncclGetUniqueId(&id);
  const int saved = curec_emu::current_device();
  ncclResult_t first = ncclGroupStart();
  for (int i = 0; i < ndev; ++i) {
    curec_emu::set_current_device(devlist ? devlist[i] : i);
    const ncclResult_t r = ncclCommInitRank(&comm[i], ndev, id, i);
    if (first == ncclSuccess) first = r;
  }
  const ncclResult_t end = ncclGroupEnd();
  curec_emu::set_current_device(saved);
  return first != ncclSuccess ? first : end;
}

ncclResult_t ncclCommGetAsyncError(ncclComm_t comm, ncclResult_t* asyncError) {
  auto lk = lock();
  if (!asyncError || !live(comm))
    return fail(nullptr, ncclInvalidArgument, "ncclCommGetAsyncError: asyncError is NULL or comm is not a live "
                                              "communicator (NULL, destroyed or aborted)");
  *asyncError = poll(comm);
  return ncclSuccess;
}

ncclResult_t ncclCommFinalize(ncclComm_t comm) {
  auto lk = lock();
  if (!live(comm)) return fail(nullptr, ncclInvalidArgument, "ncclCommFinalize: comm is not a live communicator");
  if (comm->finalized) return fail(comm, ncclInvalidUsage, "ncclCommFinalize on " + who(comm) + ": called twice");
  comm->finalized = true;
  // A blocking communicator has nothing in flight; a non-blocking one settles as its calls do.
  const ncclResult_t r = poll(comm);
  return comm->blocking && r == ncclInProgress ? ncclSuccess : r;
}

// Waits for the communicator's calls still in flight (NCCL's destroy flushes them first).
ncclResult_t ncclCommDestroy(ncclComm_t comm) {
  auto lk = lock();
  if (!comm) return ncclSuccess;
  if (!live(comm)) return fail(nullptr, ncclInvalidArgument, "ncclCommDestroy: comm is not a live communicator");
  Pins pins;
  pins.add(comm);
  ncclResult_t r = ncclSuccess;
  while (r == ncclSuccess && !comm->pending.empty()) {
    const ncclComm::Pending p = comm->pending.front();
    r = await_call(lk, comm, p.key, p.deadline, p.what);
    if (!comm->pending.empty()) comm->pending.erase(comm->pending.begin());
  }
  if (comm->clique && !comm->clique->complete())
    break_clique(*comm->clique, ncclInvalidUsage, who(comm) + " was destroyed before every rank joined");
  if (live(comm)) bury(comm);
  return r;
}

ncclResult_t ncclCommAbort(ncclComm_t comm) {
  auto lk = lock();
  if (!comm) return ncclSuccess;
  if (!live(comm)) return fail(nullptr, ncclInvalidArgument, "ncclCommAbort: comm is not a live communicator");
  if (comm->clique)
    break_clique(*comm->clique, ncclRemoteError, who(comm) + "'s communicator was aborted (ncclCommAbort)");
  bury(comm);
  return ncclSuccess;
}

ncclResult_t ncclCommCount(const ncclComm_t comm, int* count) {
  auto lk = lock();
  if (!live(comm) || !count) return fail(nullptr, ncclInvalidArgument, "ncclCommCount: bad comm or count");
  *count = comm->nranks;
  return ncclSuccess;
}

ncclResult_t ncclCommCuDevice(const ncclComm_t comm, int* device) {
  auto lk = lock();
  if (!live(comm) || !device) return fail(nullptr, ncclInvalidArgument, "ncclCommCuDevice: bad comm or device");
  *device = comm->device;
  return ncclSuccess;
}

ncclResult_t ncclCommUserRank(const ncclComm_t comm, int* rank) {
  auto lk = lock();
  if (!live(comm) || !rank) return fail(nullptr, ncclInvalidArgument, "ncclCommUserRank: bad comm or rank");
  *rank = comm->rank;
  return ncclSuccess;
}

ncclResult_t ncclGroupStart() {
  ++tl_group.depth;
  return ncclSuccess;
}

ncclResult_t ncclGroupEnd() {
  auto lk = lock();
  if (tl_group.depth == 0) return fail(nullptr, ncclInvalidUsage, "ncclGroupEnd without ncclGroupStart");
  if (--tl_group.depth > 0) return ncclSuccess;
  std::vector<Queued> ops = std::move(tl_group.ops);
  tl_group.ops.clear();
  const ncclResult_t error = std::exchange(tl_group.error, ncclSuccess);
  if (error == ncclSuccess) return run_group(lk, ops);
  // As NCCL, a group with a refused call runs none of its calls; inits in it fail.
  for (const Queued& q : ops)
    if (q.join && live(q.comm) && q.comm->error == ncclSuccess) {
      q.comm->error = error;
      fail(q.comm, error, who(q.comm) + ": its init was dropped: another call of its group failed (" + last_error() +
                              ")");
    }
  return error;
}

ncclResult_t ncclAllReduce(const void* sendbuff, void* recvbuff, size_t count, ncclDataType_t datatype, ncclRedOp_t op,
                           ncclComm_t comm, cudaStream_t) {
  return collective(comm, {Kind::all_reduce, sendbuff, recvbuff, count, datatype, op, 0});
}

ncclResult_t ncclReduce(const void* sendbuff, void* recvbuff, size_t count, ncclDataType_t datatype, ncclRedOp_t op,
                        int root, ncclComm_t comm, cudaStream_t) {
  return collective(comm, {Kind::reduce, sendbuff, recvbuff, count, datatype, op, root});
}

ncclResult_t ncclBroadcast(const void* sendbuff, void* recvbuff, size_t count, ncclDataType_t datatype, int root,
                           ncclComm_t comm, cudaStream_t) {
  return collective(comm, {Kind::broadcast, sendbuff, recvbuff, count, datatype, ncclSum, root});
}

ncclResult_t ncclBcast(void* buff, size_t count, ncclDataType_t datatype, int root, ncclComm_t comm,
                       cudaStream_t stream) {
  return ncclBroadcast(buff, buff, count, datatype, root, comm, stream);
}

ncclResult_t ncclAllGather(const void* sendbuff, void* recvbuff, size_t sendcount, ncclDataType_t datatype,
                           ncclComm_t comm, cudaStream_t) {
  return collective(comm, {Kind::all_gather, sendbuff, recvbuff, sendcount, datatype, ncclSum, 0});
}

ncclResult_t ncclReduceScatter(const void* sendbuff, void* recvbuff, size_t recvcount, ncclDataType_t datatype,
                               ncclRedOp_t op, ncclComm_t comm, cudaStream_t) {
  return collective(comm, {Kind::reduce_scatter, sendbuff, recvbuff, recvcount, datatype, op, 0});
}

ncclResult_t ncclSend(const void* sendbuff, size_t count, ncclDataType_t datatype, int peer, ncclComm_t comm,
                      cudaStream_t) {
  return collective(comm, {Kind::send, sendbuff, nullptr, count, datatype, ncclSum, peer});
}

ncclResult_t ncclRecv(void* recvbuff, size_t count, ncclDataType_t datatype, int peer, ncclComm_t comm, cudaStream_t) {
  return collective(comm, {Kind::recv, nullptr, recvbuff, count, datatype, ncclSum, peer});
}

ncclResult_t ncclMemAlloc(void** ptr, size_t size) {
  if (!ptr) return ncclInvalidArgument;
  *ptr = curec_emu::allocate(size, curec_emu::MemoryKind::device);
  return *ptr || size == 0 ? ncclSuccess : ncclSystemError;
}

ncclResult_t ncclMemFree(void* ptr) {
  if (!ptr) return ncclSuccess;
  if (curec_emu::release(ptr, curec_emu::MemoryKind::device)) return ncclSuccess;
  auto lk = lock();
  return fail(nullptr, ncclInvalidArgument, "ncclMemFree: the pointer is not memory from ncclMemAlloc");
}

}  // extern "C"
