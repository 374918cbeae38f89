#include "app/data_parallel.h"

#include <CLI/CLI.hpp>
#include <cstring>
#include <memory>
#include <vector>

#include "train/distributed/grad_sync.h"
#include "train/distributed/nccl_communicator.h"
#include "train/distributed/thread_group.h"

namespace curec::app {

namespace {
// This rank's settings: its shard, the parameter broadcast, the gradient exchange.
RunSettings on_rank(const RunSettings& base, dist::Communicator& comm) {
  RunSettings s = base;
  s.sharding = train::Sharding{comm.rank(), comm.world_size()};
  s.communicator = &comm;
  auto sync = std::make_shared<std::unique_ptr<dist::GradientSync>>();
  s.hooks.on_start = [sync, &comm](nn::Module& model) {
    *sync = std::make_unique<dist::GradientSync>(model.named_parameters(), comm);
    (*sync)->broadcast_parameters();
  };
  s.hooks.after_backward = [sync](const train::StepContext&, double share) { (*sync)->sync(share); };
  s.hooks.combine_loss = [&comm](double mean, int64_t count) {
    Tensor t = Tensor::from_vector<float>({static_cast<float>(mean * static_cast<double>(count)),
                                           static_cast<float>(count)}, {2}, comm.device());
    comm.all_reduce(t);
    std::vector<float> v = t.to_vector<float>();
    return static_cast<double>(v[0]) / static_cast<double>(v[1]);
  };
  // Evaluations the ranks share: every rank's numbers, exactly (doubles travel as their bits).
  s.hooks.gather = [&comm](const std::vector<double>& mine) {
    std::vector<int64_t> bits(mine.size());
    std::memcpy(bits.data(), mine.data(), mine.size() * sizeof(double));
    dist::Gathered g =
        comm.all_gather_v(Tensor::from_vector(bits, {static_cast<int64_t>(bits.size())}, comm.device()));
    bits = g.data.to_vector<int64_t>();
    std::vector<double> all(bits.size());
    std::memcpy(all.data(), bits.data(), bits.size() * sizeof(double));
    return all;
  };
  // A rank stopping alone would leave the others waiting in a collective: a data-parallel run
  // is not interrupted between steps (a second Ctrl-C ends the process).
  s.hooks.should_stop = nullptr;
  if (comm.rank() != 0) {
    s.verbose = false;
    s.hooks.on_epoch = nullptr;
    s.hooks.on_step = nullptr;
    s.save.clear();
  }
  return s;
}
}  // namespace

int in_process_world_size(const dist::LaunchInfo& launch, int flag, bool given) {
  if (!given) return 1;
  CUREC_CHECK(flag >= 1, "--world-size ", flag, " is not a number of ranks; give 1 or more (the ranks this process runs: "
              "threads on the CPU, GPUs with --device cuda)");
  CUREC_CHECK(!launch.multi_process() || flag == 1, "--world-size ", flag, " under ", dist::launcher_name(launch.how),
              ", which started ", launch.world_size, " processes: a launched job runs one rank per process; drop "
              "--world-size (", launch.world_size, " ranks from the launcher), or run one process with --world-size ",
              flag);
  return flag;
}

ParallelPlan plan_parallel(int flag, bool given) {
  ParallelPlan p;
  try {
    p.launch = dist::read_launch();
    const int in_process = in_process_world_size(p.launch, flag, given);
    p.launched = p.launch.world_size > 1;
    p.world_size = p.launched ? p.launch.world_size : in_process;
    p.rank = p.launched ? p.launch.rank : 0;
  } catch (const Error& e) {
    throw CLI::ValidationError("--world-size", e.message());
  }
  return p;
}

RunResult run_parallel(Recipe& recipe, const RunSettings& settings, const ParallelPlan& plan) {
  if (plan.launched) {
    std::unique_ptr<dist::Communicator> comm = dist::make_launched_communicator(plan.launch, settings.device);
    RunSettings s = on_rank(settings, *comm);
    if (s.device.is_cuda()) s.device = comm->device();
    return recipe.run(s);
  }
  if (plan.world_size == 1) return recipe.run(settings);
  std::vector<RunResult> results(static_cast<size_t>(plan.world_size));
  auto rank_main = [&](dist::Communicator& comm) {
    RunSettings s = on_rank(settings, comm);
    if (s.device.is_cuda()) s.device = comm.device();
    results[static_cast<size_t>(comm.rank())] = recipe.run(s);
  };
  if (settings.device.is_cpu()) {
    dist::ThreadGroup group(plan.world_size);
    dist::run_ranks(group, rank_main);
  } else {
    std::vector<int> devices;
    for (int r = 0; r < plan.world_size; ++r) devices.push_back(r);
    std::vector<std::unique_ptr<dist::Communicator>> comms = dist::nccl_init_all(devices);
    std::vector<dist::Communicator*> raw;
    for (auto& c : comms) raw.push_back(c.get());
    dist::run_ranks(raw, rank_main);
  }
  return results[0];
}

}  // namespace curec::app
