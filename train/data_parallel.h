#pragma once
// Data-parallel training of any Task through the Trainer (train/trainer.h): what one rank of a
// group adds to its run. Every rank builds the same model and Task and calls
//
//   train::DataParallel dp = train::data_parallel(comm, hooks);  // comm: this rank's Communicator
//   config.sharding = dp.sharding;                                // its shard of every global batch
//   train::Trainer(task, config, dp.hooks).fit();
//
// The hooks check that every rank built the same parameter list and broadcast rank 0's values
// (on_start), exchange gradients with each shard's weight, their buckets all-reduced while
// backward still runs (before_backward / after_backward: dist::GradientSync), combine the epoch
// losses (exact doubles, over Communicator::all_gather_host), share evaluations (gather), and
// agree on stopping (should_stop: every stop_poll_every-th poll an all-gather of the ranks'
// flags on the host, so all stop after the same step).
// Only rank 0 keeps `base`'s epoch and step callbacks (logs, progress bars). N ranks then train
// the model one rank trains on the whole batches, up to the order of floating-point sums.
#include <memory>

#include "train/distributed/communicator.h"
#include "train/distributed/grad_sync.h"
#include "train/trainer.h"

namespace curec::train {

struct DataParallel {
  Sharding sharding;
  TrainerHooks hooks;
  // The gradient exchange, once training has started (on_start made it); null before.
  std::shared_ptr<std::unique_ptr<dist::GradientSync>> sync = std::make_shared<std::unique_ptr<dist::GradientSync>>();
  // Bytes the exchange moved per step so far (dist::GradientSync::bytes_per_sync); 0 before a step.
  double exchange_bytes_per_step() const;
};

// `base`: this rank's own hooks (progress, logs, should_stop), kept as described above.
DataParallel data_parallel(dist::Communicator& comm, const TrainerHooks& base = {}, int stop_poll_every = 8,
                           dist::GradSyncOptions options = {});

}  // namespace curec::train
