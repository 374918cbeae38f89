// Two ranks on two GPUs over NCCL: the collectives between devices, and data-parallel MF equal
// to one rank. Needs two CUDA devices (the emulated device has two; one real GPU skips visibly).
#include <thread>

#include "app/data_parallel.h"
#include "app/recipes.h"
#include "core/cuda_context.h"
#include "tests/testing.h"
#include "train/distributed/nccl_communicator.h"

using namespace curec;

namespace {

bool two_gpus() {
  if (cuda_device_count() >= 2) return true;
  MESSAGE("SKIPPED: needs 2 CUDA devices, this machine has ", cuda_device_count());
  return false;
}

// Runs fn(rank, comm) on a thread per rank.
void on_ranks(std::vector<std::unique_ptr<dist::Communicator>>& comms,
              const std::function<void(int, dist::Communicator&)>& fn) {
  std::vector<std::thread> threads;
  for (size_t r = 0; r < comms.size(); ++r) threads.emplace_back([&, r] { fn(static_cast<int>(r), *comms[r]); });
  for (auto& t : threads) t.join();
}

}  // namespace

TEST_SUITE("cuda") {
  TEST_CASE("nccl on 2 GPUs: all-reduce (sum, avg), broadcast and all-gather move data between the devices") {
    if (!two_gpus()) return;
    auto comms = dist::nccl_init_all({0, 1}, {.timeout_s = 60});
    std::vector<std::vector<float>> sum(2), avg(2), bcast(2);
    on_ranks(comms, [&](int r, dist::Communicator& c) {
      Device d = Device::cuda(r);
      Tensor a = Tensor::from_vector<float>({1.0f + r, 10.0f * (r + 1), -3.0f}, {3}).to(d);
      c.all_reduce(a);
      Tensor b = Tensor::from_vector<float>({2.0f + 4 * r, -1.0f}, {2}).to(d);
      c.all_reduce(b, dist::ReduceOp::avg);
      Tensor x = Tensor::from_vector<float>({r == 1 ? 7.5f : 0.0f, r == 1 ? 8.5f : 0.0f}, {2}).to(d);
      c.broadcast(x, 1);
      c.synchronize();
      sum[r] = a.to_vector<float>(), avg[r] = b.to_vector<float>(), bcast[r] = x.to_vector<float>();
    });
    for (int r = 0; r < 2; ++r) {
      CAPTURE(r);
      CHECK(sum[r] == std::vector<float>{3.0f, 30.0f, -6.0f});
      CHECK(avg[r] == std::vector<float>{4.0f, -1.0f});
      CHECK(bcast[r] == std::vector<float>{7.5f, 8.5f});
    }
  }

  TEST_CASE("data parallel over NCCL on 2 GPUs trains MF as one rank does (--world-size 2 --device cuda)") {
    if (!two_gpus()) return;
    auto run = [](int world_size) {
      std::unique_ptr<app::Recipe> recipe = app::find_experiment("mf").recipe();
      auto& mf = dynamic_cast<app::MfRecipe&>(*recipe);
      mf.train.epochs = 2;
      mf.train.batch_size = 301;  // leaves an uneven last batch
      app::RunSettings s;
      s.data = "synthetic";
      s.seed = 3;
      s.verbose = false;
      s.device = Device::cuda(0);
      app::ParallelPlan plan;
      plan.world_size = world_size;
      app::RunResult r = app::run_parallel(*recipe, s, plan);
      REQUIRE(r.trained);
      return r.trained->state_dict();
    };
    nn::StateDict one = run(1), two = run(2);
    REQUIRE(two.size() == one.size());
    for (const auto& [name, t] : one) testing::check_close(two.at(name), t, 1e-5f, 1.3e-6f, "2 GPUs: " + name);
  }
}
