// Two ranks on two GPUs over NCCL: the collectives between devices, and data-parallel MF equal
// to one rank. Needs two CUDA devices (the emulated device has two; one real GPU skips visibly).
#include "app/data_parallel.h"
#include "app/recipes.h"
#include "core/device.h"
#include "tests/testing.h"
#include "train/distributed/local_ranks.h"

using namespace curec;

namespace {

bool two_gpus() {
  if (cuda_device_count() >= 2) return true;
  MESSAGE("SKIPPED: needs 2 CUDA devices, this machine has ", cuda_device_count());
  return false;
}

}  // namespace

TEST_SUITE("cuda") {
  TEST_CASE("nccl on 2 GPUs: all-reduce, broadcast and all-gather move data between the devices") {
    if (!two_gpus()) return;
    std::vector<std::vector<float>> sum(2), bcast(2);
    dist::LocalRanks(2, Device::cuda(0), 60).run([&](dist::Communicator& c) {
      const int r = c.rank();
      Device d = Device::cuda(r);
      Tensor a = Tensor::from_vector<float>({1.0f + r, 10.0f * (r + 1), -3.0f}, {3}).to(d);
      c.all_reduce(a);
      Tensor x = Tensor::from_vector<float>({r == 1 ? 7.5f : 0.0f, r == 1 ? 8.5f : 0.0f}, {2}).to(d);
      c.broadcast(x, 1);
      c.synchronize();
      sum[r] = a.to_vector<float>(), bcast[r] = x.to_vector<float>();
    });
    for (int r = 0; r < 2; ++r) {
      CAPTURE(r);
      CHECK(sum[r] == std::vector<float>{3.0f, 30.0f, -6.0f});
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
