#include "app/data_parallel.h"

#include <CLI/CLI.hpp>
#include <memory>
#include <optional>
#include <vector>

#include "app/report.h"
#include "train/data_parallel.h"
#include "train/distributed/local_ranks.h"

namespace curec::app {

namespace {
// Runs this rank's part (train/data_parallel.h: its shard and hooks, kept with the run's own);
// the bytes the gradient exchange moved per step go into its result.
RunResult run_rank(Recipe& recipe, const RunSettings& base, dist::Communicator& comm, bool exchange_alone) {
  train::DataParallel dp =
      train::data_parallel(comm, base.hooks, recipe.stop_poll_every(), {.exchange_alone = exchange_alone});
  RunSettings s = base;
  s.sharding = dp.sharding;
  s.hooks = dp.hooks;
  s.communicator = &comm;  // for a recipe that exchanges more itself (ALS all-gathers its tables)
  if (s.device.is_cuda()) s.device = comm.device();
  if (comm.rank() != 0) {
    s.verbose = false;
    s.save.clear();
    if (base.log_all_ranks)  // asked for: this rank's epoch lines too (its own seconds), marked
      s.hooks.on_epoch = [prefix = detail::concat("[rank ", comm.rank(), "] ")](const train::EpochRecord& r) {
        print_epoch(r, prefix);
      };
  }
  RunResult r = recipe.run(s);
  r.exchange_bytes_per_step = dp.exchange_bytes_per_step();
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

ParallelPlan plan_parallel(int flag, bool given, bool exchange_alone) {
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
  if (exchange_alone && p.world_size > 1)
    throw CLI::ValidationError("--exchange-alone", detail::concat(
        "this run has ", p.world_size, " ranks, which exchange their gradients anyway; --exchange-alone runs the "
        "exchange with one rank (leave it out, or run one rank)"));
  p.exchange_alone = exchange_alone;
  return p;
}

RunResult run_parallel(Recipe& recipe, const RunSettings& settings, const ParallelPlan& plan) {
  if (plan.launched) {
    std::shared_ptr<dist::Communicator> comm = dist::make_launched_communicator(plan.launch, settings.device);
    try {
      return run_rank(recipe, settings, *comm, false);
    } catch (const train::Interrupted&) {
      // The ranks stopped after the same step; none exits before all have (the launcher ends the
      // whole job when one process exits non-zero, which could cut rank 0's last checkpoint short).
      try {
        comm->barrier();
      } catch (const Error&) {  // another process is gone already: nothing left to wait for
      }
      throw;
    }
  }
  if (plan.world_size == 1 && !plan.exchange_alone) return recipe.run(settings);
  std::vector<RunResult> results(static_cast<size_t>(plan.world_size));
  // The ranks stop together (see should_stop above): rank 0's interruption is the run's.
  std::optional<train::Interrupted> interrupted;
  auto rank_main = [&](dist::Communicator& comm) {
    try {
      results[static_cast<size_t>(comm.rank())] = run_rank(recipe, settings, comm, plan.exchange_alone);
    } catch (const train::Interrupted& e) {
      if (comm.rank() == 0) interrupted = e;
    }
  };
  dist::LocalRanks(plan.world_size, settings.device).run(rank_main);
  if (interrupted) throw *interrupted;
  return results[0];
}

}  // namespace curec::app
