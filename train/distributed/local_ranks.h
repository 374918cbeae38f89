#pragma once
// N ranks in this process, a host thread each: the one way to run in-process ranks. Threads over
// a ThreadGroup for a CPU device, GPUs 0..N-1 over NCCL for a CUDA one (one rank keeps its GPU):
//   dist::LocalRanks(n, device).run([&](dist::Communicator& comm) { ... this rank's part ... });
// When a rank throws, the others' communicators are aborted (none waits for it), and the first
// error (the cause, not the aborts) is rethrown, prefixed by the rank. A CPU rank whose function
// returns is marked finished, so a rank still waiting for it fails at once.
#include <functional>
#include <memory>
#include <vector>

#include "train/distributed/communicator.h"

namespace curec::dist {

class ThreadGroup;

class LocalRanks {
 public:
  // timeout_s: how long a collective waits for the other ranks.
  explicit LocalRanks(int world_size, Device device = Device::cpu(), double timeout_s = default_timeout_s());
  ~LocalRanks();
  LocalRanks(const LocalRanks&) = delete;
  LocalRanks& operator=(const LocalRanks&) = delete;

  int world_size() const { return static_cast<int>(comms_.size()); }
  Communicator& communicator(int rank) { return *comms_.at(static_cast<size_t>(rank)); }
  void run(const std::function<void(Communicator&)>& fn);
  // Whether a CPU group was stopped (a timeout, a failed rank): it cannot run again.
  bool stopped() const;

 private:
  std::unique_ptr<ThreadGroup> group_;
  std::vector<std::unique_ptr<Communicator>> owned_;  // NCCL's
  std::vector<Communicator*> comms_;
};

}  // namespace curec::dist
