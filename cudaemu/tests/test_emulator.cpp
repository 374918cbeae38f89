// The emulated device's execution model, checked through probe kernels: what it runs as a GPU
// would, and each mistake it must refuse with a fault naming the kernel, block and thread.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <numeric>
#include <string>

#include "cudaemu/grid.h"
#include "probe_kernels.h"

namespace {

std::string message(cudaError_t e) { return cudaGetErrorString(e); }

// Runs f under each scheduling order; restores in-order scheduling after.
template <class F>
void in_every_order(F&& f) {
  for (auto o : {curec_emu::Order::in_order, curec_emu::Order::reversed, curec_emu::Order::random}) {
    curec_emu::set_order(o, 7);
    CAPTURE(static_cast<int>(o));
    f();
  }
  curec_emu::set_order(curec_emu::Order::in_order, 1);
}

}  // namespace

TEST_SUITE("cuda") {

TEST_CASE("a shared-memory tree reduction with barriers sums in every order") {
  std::vector<float> x(256);
  for (size_t i = 0; i < x.size(); ++i) x[i] = 0.25f * float(i % 17) - 1.0f;
  float expect = std::accumulate(x.begin(), x.end(), 0.0f);
  in_every_order([&] {
    float sum = 0;
    REQUIRE(probe::block_sum(x, 256, true, &sum) == cudaSuccess);
    CHECK(sum == doctest::Approx(expect).epsilon(1e-5));
  });
}

TEST_CASE("the same reduction without its barriers goes wrong in some order") {
  std::vector<float> x(256, 1.0f);
  bool wrong = false;
  in_every_order([&] {
    float sum = 0;
    CHECK(probe::block_sum(x, 256, false, &sum) == cudaSuccess);
    wrong |= sum != 256.0f;
  });
  CHECK(wrong);
}

TEST_CASE("a barrier that half the block skips fails the launch, naming kernel, block and thread") {
  cudaError_t e = probe::barrier_skipped_by_half(64);
  CHECK(e == cudaErrorLaunchFailure);
  std::string m = message(e);
  CHECK(m.find("half_barrier_kernel") != std::string::npos);
  CHECK(m.find("block (0,0,0)") != std::string::npos);
  CHECK(m.find("__syncthreads") != std::string::npos);
  CHECK(m.find("never reaches") != std::string::npos);
}

TEST_CASE("threads at two different barriers fail the launch") {
  cudaError_t e = probe::barrier_at_two_sites(64);
  CHECK(e == cudaErrorLaunchFailure);
  CHECK(message(e).find("another one") != std::string::npos);
}

TEST_CASE("a return before a barrier fails the launch") {
  cudaError_t e = probe::return_before_barrier(64);
  CHECK(e == cudaErrorLaunchFailure);
  CHECK(message(e).find("early_return_kernel") != std::string::npos);
}

TEST_CASE("a full-warp shuffle reduction sums the warp") {
  std::vector<float> x(64);
  for (size_t i = 0; i < x.size(); ++i) x[i] = float(i) * 0.5f + 1.0f;
  in_every_order([&] {
    std::vector<float> out;
    REQUIRE(probe::warp_sum(x, 0xffffffffu, &out) == cudaSuccess);
    for (int w = 0; w < 2; ++w) {
      float expect = std::accumulate(x.begin() + w * 32, x.begin() + w * 32 + 32, 0.0f);
      CHECK(out[w * 32] == doctest::Approx(expect));
    }
  });
}

TEST_CASE("a half-warp mask with every lane calling fails: the caller is outside its mask") {
  std::vector<float> x(32, 1.0f), out;
  cudaError_t e = probe::warp_sum(x, 0x0000ffffu, &out);
  CHECK(e == cudaErrorLaunchFailure);
  CHECK(message(e).find("not in the mask") != std::string::npos);
}

TEST_CASE("a full mask naming lanes that exited fails") {
  cudaError_t e = probe::shuffle_after_half_exit();
  CHECK(e == cudaErrorLaunchFailure);
  CHECK(message(e).find("exited") != std::string::npos);
}

TEST_CASE("a warp in a block of fewer than 32 threads cannot name the missing lanes") {
  std::vector<float> x(16, 1.0f), out;
  cudaError_t e = probe::warp_sum(x, 0xffffffffu, &out);
  CHECK(e == cudaErrorLaunchFailure);
  CHECK(message(e).find("does not exist") != std::string::npos);
}

TEST_CASE("shuffle variants follow CUDA's lane arithmetic") {
  std::vector<int> idx, up, xr, w8;
  REQUIRE(probe::shuffle_variants(&idx, &up, &xr, &w8) == cudaSuccess);
  for (int l = 0; l < 32; ++l) {
    CAPTURE(l);
    CHECK(idx[l] == 30);
    CHECK(up[l] == (l >= 2 ? (l - 2) * 10 : l * 10));  // below the segment: the lane's own value
    CHECK(xr[l] == (l ^ 16) * 10);
    CHECK(w8[l] == ((l % 8) + 4 < 8 ? (l + 4) * 10 : l * 10));
  }
}

TEST_CASE("votes") {
  std::vector<unsigned> ballot;
  std::vector<int> any, all;
  REQUIRE(probe::votes(&ballot, &any, &all) == cudaSuccess);
  unsigned expect = 0;
  for (int l = 0; l < 32; l += 3) expect |= 1u << l;
  CHECK(ballot[7] == expect);
  CHECK(any[0] == 1);
  CHECK(all[0] == 0);
}

TEST_CASE("3-D grid and block indices cover every thread once") {
  dim3 grid(3, 2, 2), block(4, 3, 2);
  in_every_order([&] {
    std::vector<int64_t> out;
    REQUIRE(probe::indices_3d(grid, block, &out) == cudaSuccess);
    for (size_t i = 0; i < out.size(); ++i) {
      int64_t per_block = 4 * 3 * 2;
      CHECK(out[i] == int64_t(i / per_block) * 100000 + int64_t(i % per_block));
    }
  });
}

TEST_CASE("sm_90's launch limits: invalid configurations fail at the launch") {
  CHECK(probe::launch_block(dim3(1), dim3(1024)) == cudaSuccess);
  cudaError_t e = probe::launch_block(dim3(1), dim3(2048));
  CHECK(e == cudaErrorInvalidConfiguration);
  CHECK(message(e).find("2048 threads") != std::string::npos);
  CHECK(probe::launch_block(dim3(1), dim3(1, 1, 65)) == cudaErrorInvalidConfiguration);
  CHECK(probe::launch_block(dim3(0), dim3(32)) == cudaErrorInvalidConfiguration);
  CHECK(probe::launch_block(dim3(1, 65536), dim3(32)) == cudaErrorInvalidConfiguration);
}

TEST_CASE("more than 48 KiB of static shared memory fails the launch") {
  cudaError_t e = probe::too_much_static_shared();
  CHECK(e == cudaErrorLaunchFailure);
  CHECK(message(e).find("48 KiB") != std::string::npos);
}

TEST_CASE("dynamic shared memory: 48 KiB by default, more after the opt-in") {
  float v = 0;
  CHECK(probe::dynamic_shared_sum(4096, false, &v) == cudaSuccess);
  CHECK(v == 1023.0f);
  CHECK(probe::dynamic_shared_sum(64 << 10, false, &v) == cudaErrorInvalidValue);
  CHECK(probe::dynamic_shared_sum(64 << 10, true, &v) == cudaSuccess);
  CHECK(v == float((64 << 10) / 4 - 1));
}

TEST_CASE("a host pointer as a kernel argument fails the launch") {
  cudaError_t e = probe::host_pointer_argument();
  CHECK(e == cudaErrorIllegalAddress);
  CHECK(message(e).find("not device memory") != std::string::npos);
}

TEST_CASE("shared memory starts poisoned: a read before a write is NaN") {
  float v = 0;
  REQUIRE(probe::shared_read_before_write(&v) == cudaSuccess);
  CHECK(std::isnan(v));
}

TEST_CASE("atomics from every thread of a grid") {
  long long count = 0;
  REQUIRE(probe::atomic_count(37, 96, &count) == cudaSuccess);
  CHECK(count == 37 * 96);
}

TEST_CASE("denormal results are flushed to zero, as -ftz=true compiles the kernels") {
  float v = 1;
  REQUIRE(probe::flush_denormal(&v) == cudaSuccess);
  CHECK(v == 0.0f);
}

TEST_CASE("a read of a neighbour's shared write without a barrier depends on the order") {
  int in_order = 0, reversed = 0;
  curec_emu::set_order(curec_emu::Order::in_order, 1);
  REQUIRE(probe::neighbour_read_without_barrier(&in_order) == cudaSuccess);
  curec_emu::set_order(curec_emu::Order::reversed, 1);
  REQUIRE(probe::neighbour_read_without_barrier(&reversed) == cudaSuccess);
  curec_emu::set_order(curec_emu::Order::in_order, 1);
  CHECK(reversed == 2);
  CHECK(in_order != 2);  // poison: thread 1 has not run yet
}

TEST_CASE("a barrier the rewrite could not see (a macro) fails the fiber-less launch, saying how to rerun") {
  cudaError_t e = probe::barrier_hidden_in_macro();
  const char* fibers = std::getenv("CUREC_EMU_FIBERS");
  if (fibers && std::string(fibers) == "all") {  // every kernel on fibers: the barrier just works
    CHECK(e == cudaSuccess);
    return;
  }
  CHECK(e == cudaErrorLaunchFailure);
  CHECK(message(e).find("CUREC_EMU_FIBERS=all") != std::string::npos);
}

TEST_CASE("__syncthreads_count") {
  int c = 0;
  REQUIRE(probe::count_at_barrier(96, &c) == cudaSuccess);
  CHECK(c == 32);
}

}  // TEST_SUITE
