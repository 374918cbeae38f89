#include "train/distributed/launch.h"

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <optional>

#include "train/distributed/mpi_communicator.h"
#include "train/distributed/nccl_communicator.h"
#include "train/distributed/local_ranks.h"

namespace curec::dist {

const char* launcher_name(Launcher l) {
  static const char* const names[] = {"none", "mpirun", "torchrun"};
  return names[static_cast<int>(l)];
}

std::string LaunchInfo::str() const {
  return detail::concat("rank ", rank, " of ", world_size, " (local rank ", local_rank, "), ",
                        how == Launcher::none ? std::string("not launched by mpirun or torchrun")
                                              : std::string("launched by ") + launcher_name(how));
}

namespace {

const char* lookup(const EnvLookup& env, const char* name) {
  const char* v = env ? env(name) : std::getenv(name);
  return v && *v ? v : nullptr;
}

int parse_int(const char* name, const char* value, int lo, int hi, const char* meaning) {
  errno = 0;
  char* end = nullptr;
  long v = std::strtol(value, &end, 10);
  CUREC_CHECK(end != value && *end == '\0' && errno == 0 && v >= lo && v <= hi, "launch environment: ", name, "=",
              value, " is not ", meaning, " (an integer in ", lo, "..", hi, ")");
  return static_cast<int>(v);
}

// One launcher's rank and size (both, or neither: nullopt), and its local rank, optional unless
// required.
std::optional<LaunchInfo> read_triple(const EnvLookup& env, const char* rank_name, const char* size_name,
                                      const char* local_name, Launcher how) {
  const char* r = lookup(env, rank_name);
  const char* s = lookup(env, size_name);
  const char* l = lookup(env, local_name);
  if (!r && !s) return std::nullopt;
  const char* launcher = launcher_name(how);
  CUREC_CHECK(r && s, "launch environment: ", r ? rank_name : size_name, "=", r ? r : s, " is set but ",
              r ? size_name : rank_name, " is not; ", launcher, " sets both (set both, or neither for one process)");
  LaunchInfo t;
  t.how = how;
  t.world_size = parse_int(size_name, s, 1, INT_MAX, "a world size");
  t.rank = parse_int(rank_name, r, 0, INT_MAX, "a rank");
  CUREC_CHECK(t.rank < t.world_size, "launch environment: ", rank_name, "=", t.rank, " but ", size_name, "=",
              t.world_size, ": ranks are 0..", t.world_size - 1);
  if (l) {
    t.local_rank = parse_int(local_name, l, 0, INT_MAX, "a local rank");
    CUREC_CHECK(t.local_rank < t.world_size, "launch environment: ", local_name, "=", t.local_rank, " but ", size_name,
                "=", t.world_size, ": a local rank is below the world size");
  } else {
    CUREC_CHECK(how != Launcher::torchrun || t.world_size == 1, "launch environment: ", rank_name, " and ", size_name,
                " are set but ", local_name, " is not; set ", local_name, " to this process's index on its machine "
                "(its GPU; ", launcher, " sets all three)");
    t.local_rank = t.world_size == 1 ? 0 : t.rank;
  }
  return t;
}

}  // namespace

LaunchInfo read_launch(const EnvLookup& env) {
  const auto ompi = read_triple(env, "OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_LOCAL_RANK",
                                Launcher::mpirun);
  const auto torch = read_triple(env, "RANK", "WORLD_SIZE", "LOCAL_RANK", Launcher::torchrun);
  CUREC_CHECK(!ompi || !torch || (ompi->rank == torch->rank && ompi->world_size == torch->world_size),
              "launch environment: mpirun says rank ", ompi->rank, " of ", ompi->world_size,
              " (OMPI_COMM_WORLD_RANK/SIZE) but RANK/WORLD_SIZE say rank ", torch->rank, " of ", torch->world_size,
              "; launch with one of the two (unset RANK and WORLD_SIZE under mpirun)");
  LaunchInfo info = ompi ? *ompi : torch ? *torch : LaunchInfo{};
  const char* addr = lookup(env, "MASTER_ADDR");
  const char* port = lookup(env, "MASTER_PORT");
  if (info.how != Launcher::none && (addr || port)) {
    CUREC_CHECK(addr && port, "launch environment: ", addr ? "MASTER_ADDR" : "MASTER_PORT", "=", addr ? addr : port,
                " is set but ", addr ? "MASTER_PORT" : "MASTER_ADDR", " is not; set both (rank 0's host and a free "
                "port) or neither");
    info.master_addr = addr;
    info.master_port = parse_int("MASTER_PORT", port, 1, 65535, "a TCP port");
    const char* store = lookup(env, "TORCHELASTIC_USE_AGENT_STORE");
    info.agent_store = store && (std::strcmp(store, "True") == 0 || std::strcmp(store, "true") == 0 ||
                                 std::strcmp(store, "1") == 0);
  }
  return info;
}

std::shared_ptr<Communicator> make_launched_communicator(const LaunchInfo& launch, Device device, double timeout_s) {
  if (!launch.multi_process()) {  // its one rank keeps the LocalRanks alive
    auto one = std::make_shared<LocalRanks>(1, device, timeout_s);
    return std::shared_ptr<Communicator>(one, &one->communicator(0));
  }
  if (device.is_cpu()) return make_mpi_communicator(timeout_s);

  NcclUniqueId id;
  std::shared_ptr<Communicator> mpi;  // kept as NCCL's host channel (all_gather_host without a device wait)
  if (launch.how == Launcher::mpirun && mpi_built()) {
    // Rank 0 makes the id; MPI_Bcast spreads it (through the MPI communicator's broadcast).
    mpi = make_mpi_communicator(timeout_s);
    Tensor bytes = Tensor::zeros({static_cast<int64_t>(id.bytes.size())}, DType::u8);
    if (mpi->rank() == 0) {
      NcclUniqueId made = nccl_unique_id();
      std::memcpy(bytes.raw_data(), made.bytes.data(), made.bytes.size());
    }
    mpi->broadcast(bytes, 0);
    std::memcpy(id.bytes.data(), bytes.raw_data(), id.bytes.size());
  } else {
    const char* preset = std::getenv("NCCL_COMM_ID");
    if (!preset || !*preset) {
      CUREC_CHECK(!launch.master_addr.empty(), "NCCL across ", launch.world_size, " processes (", launch.str(),
                  ") needs rank 0's address to bootstrap: set MASTER_ADDR and MASTER_PORT (torchrun does), or NCCL_COMM_ID=host:port",
                  launch.how == Launcher::mpirun ? ", or rebuild curec with MPI so that mpirun spreads the id" : "");
      int port = launch.master_port + (launch.agent_store ? 1 : 0);
      CUREC_CHECK(port <= 65535, "MASTER_PORT=", launch.master_port, " leaves no port for NCCL above torchrun's store; "
                  "pick a lower MASTER_PORT");
      std::string comm_id = launch.master_addr + ":" + std::to_string(port);
      setenv("NCCL_COMM_ID", comm_id.c_str(), 1);
    }
    id = nccl_unique_id();  // with NCCL_COMM_ID set, the same address-based id on every rank
  }
  return nccl_init_rank(id, launch.rank, launch.world_size, launch.local_rank,
                        {.timeout_s = timeout_s, .host_channel = mpi});
}

}  // namespace curec::dist
