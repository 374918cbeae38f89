#pragma once
// N ranks in this process, one host thread each: CPU threads over a ThreadGroup for a CPU
// device, or GPUs 0..N-1 over NCCL for a CUDA one (one rank alone keeps the GPU it was given).
//
//   dist::LocalRanks ranks(n, device);
//   ranks.run([&](dist::Communicator& comm) { ... this rank's part ... });
#include <functional>
#include <memory>
#include <vector>

#include "train/distributed/communicator.h"

namespace curec::dist {

class ThreadGroup;

class LocalRanks {
 public:
  LocalRanks(int world_size, Device device);
  ~LocalRanks();
  LocalRanks(const LocalRanks&) = delete;
  LocalRanks& operator=(const LocalRanks&) = delete;

  int world_size() const { return static_cast<int>(comms_.size()); }
  // fn on every rank, a thread each; a rank's error stops the others and is rethrown (run_ranks).
  void run(const std::function<void(Communicator&)>& fn);

 private:
  std::unique_ptr<ThreadGroup> group_;
  std::vector<std::unique_ptr<Communicator>> owned_;  // NCCL's
  std::vector<Communicator*> comms_;
};

}  // namespace curec::dist
