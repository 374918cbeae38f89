#pragma once
// In-process ranks over threads (LocalRanks runs them): world_size communicators sharing state,
// CPU tensors only. Every call is checked (communicator.h) before a rank touches another's
// tensor. A timeout, a rank whose function returned while others wait for it, or abort(), stops
// the group: every waiting and later collective fails, naming the rank that did not arrive.
#include <memory>
#include <string>
#include <vector>

#include "train/distributed/communicator.h"

namespace curec::dist {

class ThreadGroup {
 public:
  explicit ThreadGroup(int world_size, double timeout_s = default_timeout_s());
  ~ThreadGroup();
  ThreadGroup(const ThreadGroup&) = delete;
  ThreadGroup& operator=(const ThreadGroup&) = delete;

  Communicator& communicator(int rank);
  // Whether the group was stopped (a timeout, a rank's abort()): it cannot run again.
  bool aborted() const;
  // Before the ranks' threads start (a stopped group, or one in a collective, is refused), and as
  // each rank's function returns: a rank still waiting for it then fails at once.
  void begin_run();
  void finished(int rank);

  struct State;

 private:
  std::shared_ptr<State> state_;
  std::vector<std::unique_ptr<Communicator>> comms_;
};

// A communicator of world size 1 on the CPU (every collective returns its input): for a run of
// one rank through the same code as N.
std::unique_ptr<Communicator> solo_communicator();

}  // namespace curec::dist
