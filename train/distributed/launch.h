#pragma once
// How this process was launched, and the communicator that goes with it.
//
//   mpirun -np N ...     OMPI_COMM_WORLD_RANK / _SIZE / _LOCAL_RANK (Open MPI's mpirun)
//   torchrun ...         RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT (torchrun, or any
//                        launcher that sets them: Kubernetes' PyTorchJob, a hand-written script)
//   neither              one process, rank 0 of 1: in-process ranks only (--world-size N)
//
// For NCCL, rank 0's ncclUniqueId is spread by MPI_Bcast when curec has MPI and mpirun launched
// the job; otherwise NCCL bootstraps from NCCL_COMM_ID = MASTER_ADDR:MASTER_PORT (rank 0 listens
// there). torchrun's own agent store already holds MASTER_PORT (TORCHELASTIC_USE_AGENT_STORE=True),
// so under torchrun NCCL gets MASTER_PORT + 1. A NCCL_COMM_ID already in the environment wins.
#include <functional>
#include <memory>
#include <string>

#include "train/distributed/communicator.h"

namespace curec::dist {

enum class Launcher { none, mpirun, torchrun };
const char* launcher_name(Launcher l);  // "none", "mpirun", "torchrun"

struct LaunchInfo {
  int rank = 0;
  int world_size = 1;
  int local_rank = 0;  // this process's index on its machine: its GPU
  Launcher how = Launcher::none;
  std::string master_addr;  // MASTER_ADDR when set, else empty
  int master_port = 0;      // MASTER_PORT when set, else 0
  bool agent_store = false; // TORCHELASTIC_USE_AGENT_STORE=True: torchrun's agent holds MASTER_PORT

  bool multi_process() const { return world_size > 1; }
  // "rank 1 of 2 (local rank 1), launched by mpirun"
  std::string str() const;
};

// Looks up an environment variable (nullptr when unset); the default is std::getenv.
using EnvLookup = std::function<const char*(const char* name)>;

// Reads the launch environment. Errors (curec::Error, naming the variables and their values):
// a rank without a world size or the reverse, values that are not integers or out of range
// (rank >= world size, local rank >= world size), RANK/WORLD_SIZE without LOCAL_RANK, MASTER_ADDR
// without MASTER_PORT (or the reverse) or a port outside 1..65535, and mpirun's and torchrun's
// variables naming different ranks or sizes.
LaunchInfo read_launch(const EnvLookup& env = {});

// The communicator of this process in a multi-process launch: over MPI for a CPU device, over
// NCCL on cuda:<local_rank> for a CUDA device (the unique id spread as the header says).
// Collective: every process must call it. A launch of one process gets a communicator of world
// size 1 (LocalRanks(1, device)), so callers need no special case.
std::shared_ptr<Communicator> make_launched_communicator(const LaunchInfo& launch, Device device,
                                                         double timeout_s = default_timeout_s());

}  // namespace curec::dist
