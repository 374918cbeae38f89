#pragma once
// Runs a recipe data-parallel: N in-process ranks (threads on the CPU, one GPU each over NCCL
// with --device cuda), or this process's rank of an mpirun or torchrun launch. Every rank
// builds the same model from the same seed; rank 0's parameters are broadcast (after a check
// that every rank built the same list), each global batch is split into contiguous shards and
// gradients are averaged with each shard's weight before the optimizer step, their buckets
// all-reduced while backward still runs (train/distributed/grad_sync.h), so N ranks take the
// step one rank takes on the whole batch. Ctrl-C stops every rank after the same step.
// Evaluation is shared the same way: each rank scores its part of the test units
// (Task::evaluation) and the parts are all-gathered, so every rank reports one rank's metrics.
// Only rank 0 reports, saves and writes checkpoints.
#include "app/recipe.h"
#include "train/distributed/launch.h"

namespace curec::app {

struct ParallelPlan {
  dist::LaunchInfo launch;
  int world_size = 1;     // ranks in all
  bool launched = false;  // one process per rank (mpirun, torchrun)
  int rank = 0;           // this process's rank when launched, else 0
  // One rank run through the data-parallel path anyway (--exchange-alone): every gradient
  // bucketed, all-reduced or gathered and unpacked as with several ranks, on one thread rank
  // (CPU) or NCCL on the one GPU, so that path is checked where one device is at hand.
  bool exchange_alone = false;
};

// How many in-process ranks to run, from --world-size (given = whether the flag was on the
// command line): the flag must be >= 1, and a launch that started several processes runs one
// rank per process, so a flag > 1 there is an error (saying to drop one of the two). Returns 1
// when the flag was not given.
int in_process_world_size(const dist::LaunchInfo& launch, int flag, bool given);

// From --world-size, --exchange-alone and the launch environment; an impossible combination
// (--exchange-alone with several ranks, which exchange anyway) is a usage error.
ParallelPlan plan_parallel(int world_size_flag, bool flag_given, bool exchange_alone = false);

// Rank 0's result (in a launch, this process's).
RunResult run_parallel(Recipe& recipe, const RunSettings& settings, const ParallelPlan& plan);

}  // namespace curec::app
