// The MPI backend under mpirun -np 2 (registered with ctest as distributed_mpi.cpu): every
// process runs the same cases in the same order, each as one rank. With --timeout-case, rank 1
// skips a barrier and rank 0 must fail with a timeout (registered as distributed_mpi_timeout.cpu,
// which checks the message and that the job ends).
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "tests/distributed/data_parallel_check.h"
#include "train/distributed/launch.h"
#include "train/distributed/mpi_communicator.h"

using namespace curec;
using namespace curec::dist;

namespace {

Communicator& world() {
  static std::unique_ptr<Communicator> comm = make_mpi_communicator(60);
  return *comm;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

std::vector<float> rank_values(int rank, int64_t n) {
  std::vector<float> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i)
    v[i] = 0.1f * static_cast<float>(rank + 1) + 1e-3f * static_cast<float>(i) + (rank % 2 ? 1e7f : 0.0f);
  return v;
}

}  // namespace

TEST_CASE("mpi: the launch environment is mpirun's, and MPI agrees") {
  Communicator& c = world();
  LaunchInfo l = read_launch();
  CHECK(l.how == Launcher::mpirun);
  CHECK(l.rank == c.rank());
  CHECK(l.world_size == c.world_size());
  CHECK(c.world_size() >= 2);
  CHECK(c.backend() == "mpi");
}

TEST_CASE("mpi: all_reduce sums in rank order, small and large tensors, the same bits on every rank") {
  Communicator& c = world();
  const int n = c.world_size();
  for (int64_t count : {int64_t{0}, int64_t{1}, int64_t{5}, int64_t{1000}, int64_t{200000}}) {
    CAPTURE(count);
    std::vector<float> expect = rank_values(0, count);
    for (int r = 1; r < n; ++r) {
      std::vector<float> v = rank_values(r, count);
      for (int64_t i = 0; i < count; ++i) expect[i] += v[i];
    }
    Tensor t = Tensor::from_vector<float>(rank_values(c.rank(), count), {count});
    c.all_reduce(t);
    CHECK(t.to_vector<float>() == expect);
  }
  Tensor i = Tensor::from_vector<int64_t>({c.rank() + 1}, {1});
  c.all_reduce(i);
  CHECK(i.to_vector<int64_t>()[0] == n * (n + 1) / 2);
}

TEST_CASE("mpi: broadcast, all_gather_v (equal and unequal counts) and barrier") {
  Communicator& c = world();
  const int n = c.world_size(), r = c.rank();
  for (int root = 0; root < n; ++root) {
    Tensor t = Tensor::from_vector<float>({static_cast<float>(r), 7.0f}, {2});
    c.broadcast(t, root);
    CHECK(t.to_vector<float>() == std::vector<float>{static_cast<float>(root), 7.0f});
  }
  Tensor g = c.all_gather_v(Tensor::from_vector<int32_t>({r, 10 * r}, {1, 2}), std::vector<int64_t>(n, 1)).data;
  REQUIRE(g.shape() == Shape{n, 2});
  for (int q = 0; q < n; ++q) {
    CHECK(g.to_vector<int32_t>()[2 * q] == q);
    CHECK(g.to_vector<int32_t>()[2 * q + 1] == 10 * q);
  }
  std::vector<float> mine(static_cast<size_t>(r + 1), static_cast<float>(r));
  Gathered v = c.all_gather_v(Tensor::from_vector<float>(mine, {r + 1}));
  int64_t total = 0;
  for (int q = 0; q < n; ++q) {
    CHECK(v.counts[q] == q + 1);
    for (int64_t k = 0; k < q + 1; ++k) CHECK(v.data.to_vector<float>()[total + k] == static_cast<float>(q));
    total += q + 1;
  }
  c.barrier();
}

TEST_CASE("mpi: ranks that disagree fail on every rank with what each called, and the communicator goes on") {
  Communicator& c = world();
  Tensor t = Tensor::zeros({c.rank() == 0 ? 4 : 5});
  std::string e = error_of([&] { c.all_reduce(t); });
  CHECK(contains(e, "the ranks disagree"));
  CHECK(contains(e, "rank 0 called all_reduce #"));
  CHECK(contains(e, "of f32[4];"));
  CHECK(contains(e, "rank 1 called all_reduce #"));
  CHECK(contains(e, "of f32[5];"));
  Tensor ok = Tensor::ones({3});
  c.all_reduce(ok);
  CHECK(ok.to_vector<float>() == std::vector<float>(3, static_cast<float>(c.world_size())));
}

TEST_CASE("mpi: GradientSync on uneven shards takes the step of one rank on the whole batch") {
  Communicator& c = world();
  const int n = c.world_size();
  for (bool sparse : {false, true}) {
    for (SparseExchange mode : {SparseExchange::gather, SparseExchange::dense}) {
      if (!sparse && mode == SparseExchange::dense) continue;
      CAPTURE(sparse);
      check::Plan plan{sparse, {}, 3};
      for (int r = 0; r < n; ++r) plan.sizes.push_back(r == 0 ? 4 : 3);  // uneven
      check::Reference ref = check::reference(plan);
      check::RankResult mine = check::run_rank(c, plan, ref, {.sparse = mode});
      // Every rank's parameters are bit for bit rank 0's: compare through a broadcast.
      for (const auto& p : mine.params) {
        Tensor t = Tensor::from_vector<float>(p, {static_cast<int64_t>(p.size())});
        Tensor r0 = t.clone();
        c.broadcast(r0, 0);
        CHECK(t.to_vector<float>() == r0.to_vector<float>());
      }
    }
  }
}

int main(int argc, char** argv) {
  if (argc > 1 && std::strcmp(argv[1], "--timeout-case") == 0) {
    auto c = make_mpi_communicator(0.5);
    if (c->rank() != 1) {
      try {
        c->barrier();
      } catch (const Error& e) {
        std::printf("rank %d: %s\n", c->rank(), e.what());
        std::fflush(stdout);
        return 3;  // MPI_Abort at exit ends rank 1, which waits in MPI_Finalize
      }
      std::printf("rank %d: the barrier returned without rank 1\n", c->rank());
      return 1;
    }
    std::this_thread::sleep_for(std::chrono::seconds(2));  // rank 1 never calls the barrier
    return 0;
  }
  doctest::Context context(argc, argv);
  int rc = context.run();
  world().barrier();  // no rank finalises while another still runs cases
  return rc;
}
