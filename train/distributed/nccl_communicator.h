#pragma once
// The NCCL backend: one rank per GPU, CUDA tensors on that GPU.
//
// Each communicator has its own CUDA stream. A collective is ordered after the work already queued
// on the compute stream (curec's current stream of the device) by an event, runs on the
// communicator's stream, and the compute stream waits for it by another event: the caller sees
// the result in order, with no host synchronisation (except barrier(), synchronize(),
// all_gather_v(t) without counts, and all_gather_host without a host channel, which wait on
// the host, within the timeout).
//
// Communicators are non-blocking NCCL communicators (ncclConfig_t::blocking = 0): no NCCL call
// blocks the host, every return code goes through one check that waits for ncclInProgress to
// settle (polling ncclCommGetAsyncError) within the timeout, and on an error or a timeout the
// communicator is aborted (ncclCommAbort) and a curec::Error says what failed, on which rank and
// device, with NCCL's last error. A communicator is then broken: later calls fail at once.
//
// In a build without CUDA every function here fails with a message saying so.
#include <array>
#include <memory>
#include <vector>

#include "train/distributed/communicator.h"

namespace curec::dist {

struct NcclOptions {
  double timeout_s = default_timeout_s();  // for initialisation and every wait on the host
  // nccl_init_rank: a CPU communicator of the same ranks (MPI's under mpirun) for all_gather_host,
  // so small host-side exchanges need no wait for the device; nccl_init_all makes its own (a
  // thread group of its ranks). Without one, all_gather_host goes through NCCL and waits.
  std::shared_ptr<Communicator> host_channel = nullptr;
  bool check_calls = false;  // the consistency check of every collective (communicator.h), over the host channel
};

// NCCL's ncclUniqueId (NCCL_UNIQUE_ID_BYTES = 128): rank 0 makes it, every rank needs it.
struct NcclUniqueId {
  std::array<char, 128> bytes{};
};

// Whether this build has the NCCL backend (a CUDA build).
bool nccl_built();
// A fresh id (ncclGetUniqueId). With NCCL_COMM_ID=host:port in the environment it names that
// address instead, and every rank may call it (rank 0's ncclCommInitRank then listens there).
NcclUniqueId nccl_unique_id();

// One process driving N GPUs: communicators for ranks 0..N-1 on devices[0..N-1] (distinct,
// existing GPUs), made together in one NCCL group (as ncclCommInitAll, with the non-blocking
// config). Drive each from its own host thread (LocalRanks does).
std::vector<std::unique_ptr<Communicator>> nccl_init_all(const std::vector<int>& devices, NcclOptions options = {});

// One process per GPU: this process's rank of world_size on `device`; every rank passes the id
// rank 0 made (spread by MPI_Bcast, or agreed through NCCL_COMM_ID: see launch.h).
std::unique_ptr<Communicator> nccl_init_rank(const NcclUniqueId& id, int rank, int world_size, int device,
                                             NcclOptions options = {});

}  // namespace curec::dist
