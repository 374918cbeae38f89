#include "train/distributed/mpi_communicator.h"

#include "train/distributed/launch.h"

#if CUREC_WITH_MPI
#define OMPI_SKIP_MPICXX 1  // the C API only
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>

#include <algorithm>
#include <atomic>
#include <climits>
#include <cstdlib>
#include <mutex>
#endif

namespace curec::dist {

#if !CUREC_WITH_MPI

bool mpi_built() { return false; }

std::unique_ptr<Communicator> make_mpi_communicator(double) {
  CUREC_FAIL("multi-process training on the CPU needs MPI, and curec was built without it: install Open MPI "
             "(apt-get install openmpi-bin libopenmpi-dev, or run scripts/install-deps), reconfigure so that CMake "
             "finds it, and launch with mpirun -np N; in one process, LocalRanks runs N ranks over threads");
}

#else

namespace {

// Set when a communicator broke (timeout, MPI error): at exit the process then aborts the job
// instead of MPI_Finalize, which would wait for the ranks that did not arrive.
std::atomic<bool> g_broken{false};
bool g_we_initialised = false;

void at_exit() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (finalized) return;
  if (g_broken.load()) {
    std::fprintf(stderr, "curec: an MPI collective failed on this rank; aborting the MPI job\n");
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  if (g_we_initialised) MPI_Finalize();
}

void ensure_initialised() {
  static std::once_flag once;
  std::call_once(once, [] {
    int initialised = 0;
    MPI_Initialized(&initialised);
    if (!initialised) {
      int provided = 0;
      int rc = MPI_Init_thread(nullptr, nullptr, MPI_THREAD_SERIALIZED, &provided);
      CUREC_CHECK(rc == MPI_SUCCESS, "MPI_Init_thread failed (error ", rc,
                  "); launch with mpirun -np N (as root also with OMPI_ALLOW_RUN_AS_ROOT=1 "
                  "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1)");
      g_we_initialised = true;
    }
    std::atexit(at_exit);
  });
}

std::string mpi_error(int code) {
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  if (MPI_Error_string(code, text, &len) != MPI_SUCCESS) return detail::concat("MPI error ", code);
  return std::string(text, static_cast<size_t>(len));
}

class MpiCommunicator : public Communicator {
 public:
  MpiCommunicator(MPI_Comm comm, int rank, int size, double timeout_s)
      : Communicator(rank, size, true), comm_(comm), timeout_s_(timeout_s) {}

  ~MpiCommunicator() override {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (!finalized && !broken()) MPI_Comm_free(&comm_);
  }

  std::string backend() const override { return "mpi"; }
  Device device() const override { return Device::cpu(); }
  void do_abort(const std::string&) override { g_broken = true; }

 protected:
  // Rank-order sum as a reduce-scatter and an all-gather: rank j receives every rank's slice j
  // (all-to-all), adds them in rank order, and the summed slices are all-gathered. In bytes.
  void do_all_reduce(Tensor& t) override {
    if (t.numel() == 0) return;
    check_count(static_cast<int64_t>(t.nbytes()), "bytes");
    const int n = world_size();
    const int64_t numel = t.numel(), per = (numel + n - 1) / n;
    const auto size = static_cast<int64_t>(dtype_size(t.dtype()));
    char* data = static_cast<char*>(t.raw_data());
    std::vector<int> bytes(n), at(n);
    for (int r = 0; r < n; ++r) {
      const int64_t lo = std::min(numel, per * r);
      at[r] = static_cast<int>(lo * size);
      bytes[r] = static_cast<int>((std::min(numel, lo + per) - lo) * size);
    }
    const int mine = bytes[rank()];
    std::vector<char> slices(static_cast<size_t>(mine) * n);  // every rank's copy of my slice
    std::vector<int> mine_n(n, mine), slice_at(n);
    std::vector<const void*> x(n);
    for (int r = 0; r < n; ++r) x[r] = slices.data() + (slice_at[r] = r * mine);
    run("MPI_Ialltoallv", [&](MPI_Request* req) {
      return MPI_Ialltoallv(data, bytes.data(), at.data(), MPI_BYTE, slices.data(), mine_n.data(), slice_at.data(),
                            MPI_BYTE, comm_, req);
    });
    sum_in_rank_order(data + at[rank()], x, mine / size, t.dtype());
    run("MPI_Iallgatherv", [&](MPI_Request* req) {
      return MPI_Iallgatherv(MPI_IN_PLACE, 0, MPI_BYTE, data, bytes.data(), at.data(), MPI_BYTE, comm_, req);
    });
  }

  void do_broadcast(Tensor& t, int root) override {
    if (t.nbytes() == 0) return;
    check_count(static_cast<int64_t>(t.nbytes()), "bytes");
    run("MPI_Ibcast", [&](MPI_Request* req) {
      return MPI_Ibcast(t.raw_data(), static_cast<int>(t.nbytes()), MPI_BYTE, root, comm_, req);
    });
  }

  void do_all_gather_v(const Tensor& t, const std::vector<int64_t>& counts, Tensor& out) override {
    check_count(static_cast<int64_t>(out.nbytes()), "bytes");
    const auto row = static_cast<int64_t>(row_bytes(t));
    std::vector<int> bytes(world_size()), displs(world_size());
    for (int r = 0, at = 0; r < world_size(); at += bytes[r++]) {
      bytes[r] = static_cast<int>(counts[r] * row);
      displs[r] = at;
    }
    run("MPI_Iallgatherv", [&](MPI_Request* req) {
      return MPI_Iallgatherv(t.raw_data(), bytes[rank()], MPI_BYTE, out.raw_data(), bytes.data(), displs.data(),
                             MPI_BYTE, comm_, req);
    });
  }

  std::vector<int64_t> do_all_gather_host(const std::vector<int64_t>& mine) override {
    const auto n = static_cast<int>(mine.size());
    std::vector<int64_t> all(static_cast<size_t>(n) * world_size());
    run("MPI_Iallgather", [&](MPI_Request* req) {
      return MPI_Iallgather(mine.data(), n, MPI_INT64_T, all.data(), n, MPI_INT64_T, comm_, req);
    });
    return all;
  }

 private:
  void check_count(int64_t n, const char* what) const {
    CUREC_CHECK(n <= INT_MAX, where(), ": ", n, " ", what, " exceed MPI's int counts (", INT_MAX,
                "); exchange the tensor in pieces");
  }

  void call(int rc, const char* what) {
    if (rc != MPI_SUCCESS)
      fail_broken(detail::concat(where(), ": ", what, " failed: ", mpi_error(rc),
                                 "; the MPI job cannot continue (it is aborted at exit)"));
  }

  // Starts a non-blocking collective (start(&request) returns MPI's code) and polls it until it
  // completes, or fails after the timeout.
  template <class Start>
  void run(const char* what, Start&& start) {
    throw_if_broken();
    MPI_Request req;
    call(start(&req), what);
    int done = 0;
    if (!poll_until(timeout_s_, [&] { return call(MPI_Test(&req, &done, MPI_STATUS_IGNORE), "MPI_Test"), done != 0; }))
      fail_broken(detail::concat(
          where(), ": ", what, " timed out after ", timeout_s_,
          " s; a rank did not arrive (every rank must call the same collectives in the same order; look for a rank "
          "that skipped one, failed or is stuck). The job is aborted at exit; raise the timeout_s or "
          "CUREC_DIST_TIMEOUT_S if a rank is merely slow"));
  }

  MPI_Comm comm_;
  double timeout_s_;
};
}  // namespace

bool mpi_built() { return true; }

std::unique_ptr<Communicator> make_mpi_communicator(double timeout_s) {
  CUREC_CHECK(timeout_s > 0, "make_mpi_communicator: timeout_s must be > 0, got ", timeout_s);
  ensure_initialised();
  MPI_Comm comm;
  int rc = MPI_Comm_dup(MPI_COMM_WORLD, &comm);
  CUREC_CHECK(rc == MPI_SUCCESS, "make_mpi_communicator: MPI_Comm_dup failed: ", mpi_error(rc));
  MPI_Comm_set_errhandler(comm, MPI_ERRORS_RETURN);
  int rank = 0, size = 1;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  LaunchInfo launch = read_launch();
  if (launch.how != Launcher::none && (launch.world_size != size || launch.rank != rank)) {
    MPI_Comm_free(&comm);
    CUREC_FAIL("make_mpi_communicator: the environment says ", launch.str(), " but MPI sees rank ", rank, " of ", size,
               "; CPU training across processes runs over MPI: launch with mpirun -np ", launch.world_size,
               " (torchrun starts processes that MPI does not connect)");
  }
  return std::make_unique<MpiCommunicator>(comm, rank, size, timeout_s);
}

#endif

}  // namespace curec::dist
