#include "app/data_parallel.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstring>
#include <memory>
#include <optional>
#include <vector>

#include "app/report.h"
#include "train/distributed/grad_sync.h"
#include "train/distributed/nccl_communicator.h"
#include "train/distributed/thread_group.h"

namespace curec::app {

namespace {
using SyncSlot = std::shared_ptr<std::unique_ptr<dist::GradientSync>>;  // made once the model is

// This rank's settings: its shard, the parameter broadcast, the gradient exchange (in `sync`).
RunSettings on_rank(const RunSettings& base, dist::Communicator& comm, const SyncSlot& sync, int stop_poll_every) {
  RunSettings s = base;
  s.sharding = train::Sharding{comm.rank(), comm.world_size()};
  s.communicator = &comm;
  s.hooks.on_start = [sync, &comm](nn::Module& model) {
    *sync = std::make_unique<dist::GradientSync>(model.named_parameters(), comm);
    (*sync)->broadcast_parameters();
  };
  // Buckets start as backward completes them (from the second step), and are finished after it.
  s.hooks.before_backward = [sync](const train::StepContext&, double share) { return (*sync)->begin(share); };
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
  // Ctrl-C (or SIGTERM, which mpirun forwards) reaches the ranks at different steps, and a rank
  // stopping alone would leave the others waiting in a collective. So every stop_poll_every-th
  // poll (Recipe::stop_poll_every) the ranks agree: an all-reduce of their flags, and all stop
  // after the same step when any was asked to (the trainer polls once a step, a sweep once a
  // sweep: the same count on every rank). Between agreements a poll costs nothing.
  s.hooks.should_stop = [local = base.hooks.should_stop, &comm, every = std::max(1, stop_poll_every),
                         polls = std::make_shared<int64_t>(0)] {
    if (++*polls % every != 0) return false;
    Tensor flag = Tensor::from_vector<float>({local && local() ? 1.0f : 0.0f}, {1}, comm.device());
    comm.all_reduce(flag);
    return flag.item() > 0;
  };
  if (comm.rank() != 0) {
    s.verbose = false;
    s.hooks.on_epoch = nullptr;
    if (base.log_all_ranks)  // asked for: this rank's epoch lines too (its own seconds), marked
      s.hooks.on_epoch = [prefix = detail::concat("[rank ", comm.rank(), "] ")](const train::EpochRecord& r) {
        print_epoch(r, prefix);
      };
    s.hooks.on_step = nullptr;
    s.save.clear();
  }
  return s;
}

// Runs this rank's part; the run's bytes exchanged per step go into its result.
RunResult run_rank(Recipe& recipe, const RunSettings& settings, dist::Communicator& comm) {
  SyncSlot sync = std::make_shared<SyncSlot::element_type>();
  RunSettings s = on_rank(settings, comm, sync, recipe.stop_poll_every());
  if (s.device.is_cuda()) s.device = comm.device();
  RunResult r = recipe.run(s);
  if (*sync && (*sync)->total_stats().steps > 0)
    r.exchange_bytes_per_step =
        static_cast<double>((*sync)->total_stats().bytes()) / static_cast<double>((*sync)->total_stats().steps);
  return r;
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
    return run_rank(recipe, settings, *comm);
  }
  if (plan.world_size == 1) return recipe.run(settings);
  std::vector<RunResult> results(static_cast<size_t>(plan.world_size));
  // The ranks stop together (see should_stop above): rank 0's interruption is the run's.
  std::optional<train::Interrupted> interrupted;
  auto rank_main = [&](dist::Communicator& comm) {
    try {
      results[static_cast<size_t>(comm.rank())] = run_rank(recipe, settings, comm);
    } catch (const train::Interrupted& e) {
      if (comm.rank() == 0) interrupted = e;
    }
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
  if (interrupted) throw *interrupted;
  return results[0];
}

}  // namespace curec::app
