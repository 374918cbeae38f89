#pragma once
// N ranks in this process, a host thread each: the one way to run in-process ranks. For a CPU
// device the ranks are threads sharing memory (the "threads" backend; every call is checked,
// communicator.h, before a rank touches another's tensor); for a CUDA one, GPUs 0..N-1 over NCCL
// (one rank keeps its GPU):
//   dist::LocalRanks(n, device).run([&](dist::Communicator& comm) { ... this rank's part ... });
// When a rank throws, the others' communicators are aborted (none waits for it), and the first
// error (the cause, not the aborts) is rethrown, prefixed by the rank. A CPU rank whose function
// returns is marked finished, so a rank still waiting for it fails at once. A timeout or a failed
// rank stops a CPU group for good: its waiting and later collectives fail, naming the rank that
// did not arrive.
#include <functional>
#include <memory>
#include <vector>

#include "train/distributed/communicator.h"

namespace curec::dist {

class LocalRanks {
 public:
  // timeout_s: how long a collective waits for the other ranks.
  explicit LocalRanks(int world_size, Device device = Device::cpu(), double timeout_s = default_timeout_s());
  ~LocalRanks();
  LocalRanks(const LocalRanks&) = delete;
  LocalRanks& operator=(const LocalRanks&) = delete;

  int world_size() const { return static_cast<int>(comms_.size()); }
  Communicator& communicator(int rank) { return *comms_.at(static_cast<size_t>(rank)); }
  // A CPU group stopped by a timeout or a failed rank cannot run again.
  void run(const std::function<void(Communicator&)>& fn);

  struct Threads;  // the CPU ranks' shared state

 private:
  std::shared_ptr<Threads> threads_;  // null for NCCL ranks
  std::vector<std::unique_ptr<Communicator>> comms_;
};

}  // namespace curec::dist
