#pragma once
// In-process ranks over threads: a ThreadGroup makes world_size communicators that share state,
// one per rank, each driven by its own thread (run_ranks starts them). CPU tensors only.
//
// Deterministic: an all-reduce adds the ranks' values in rank order (((r0 + r1) + r2) ...),
// element by element, so every rank gets the same bits whatever the thread timing (each rank
// sums one slice of the elements and writes it into every rank's tensor).
//
// Every rank checks what the others passed (collective, sequence number, dtype, shape, root,
// counts) and a disagreement is an error on every rank, naming what each rank called. A wait
// that outlasts options.timeout_s, a rank that returned from run_ranks' function while others
// wait for it, or abort(), stops the group: every waiting and later collective fails with a
// message saying which rank did not arrive and where it was last seen.
#include <memory>
#include <string>
#include <vector>

#include "train/distributed/communicator.h"

namespace curec::dist {

struct ThreadGroupOptions {
  double timeout_s = default_timeout_s();  // how long a collective waits for the other ranks
};

class ThreadGroup {
 public:
  explicit ThreadGroup(int world_size, ThreadGroupOptions options = {});
  ~ThreadGroup();
  ThreadGroup(const ThreadGroup&) = delete;
  ThreadGroup& operator=(const ThreadGroup&) = delete;

  int world_size() const;
  Communicator& communicator(int rank);
  std::vector<Communicator*> communicators();

  // Stops the group: waiting and later collectives on every rank fail with `reason`.
  void abort(const std::string& reason);
  bool aborted() const;

  struct State;

 private:
  friend void run_ranks(ThreadGroup& group, const std::function<void(Communicator&)>& fn);
  std::shared_ptr<State> state_;
  std::vector<std::unique_ptr<Communicator>> comms_;
};

// A communicator of world size 1 on the CPU (every collective returns its input): for a run of
// one rank through the same code as N.
std::unique_ptr<Communicator> solo_communicator();

// Runs fn on every rank of the group, one thread per rank (see run_ranks in communicator.h);
// a rank whose fn returns is marked finished, so a rank still waiting for it fails at once.
// The group may be run again afterwards unless it was stopped.
void run_ranks(ThreadGroup& group, const std::function<void(Communicator&)>& fn);
// A fresh group of world_size ranks for one run.
void run_ranks(int world_size, const std::function<void(Communicator&)>& fn, ThreadGroupOptions options = {});

}  // namespace curec::dist
