#pragma once
// The NCCL stand-in's shared state: cliques (the ranks of one unique id, all in this process) and
// the rendezvous of their calls. Every NCCL call of this process runs under one lock; a call posts
// this rank's part into a slot of its clique, and the rank that completes a slot runs the whole
// operation for every rank (streams run synchronously, so the data must move before the call, or
// the group around it, returns). Waits sleep on one condition variable and always end: on
// completion, on an abort or failure anywhere in the clique, or at the timeout.
#include <nccl.h>

#include <chrono>
#include <condition_variable>
#include <compare>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace curec_emu::nccl {

using Clock = std::chrono::steady_clock;

enum class Kind { all_reduce, reduce, broadcast, all_gather, reduce_scatter, send, recv };

// One rank's part of one operation, as the rank passed it.
struct Call {
  Kind kind = Kind::all_reduce;
  const void* send = nullptr;
  void* recv = nullptr;
  size_t count = 0;
  ncclDataType_t type = ncclFloat32;
  ncclRedOp_t op = ncclSum;
  int root = 0;  // the root, or for send/recv the peer
};

// Collectives: {-1, -1, n} for a communicator's n-th collective. Point-to-point: {src, dst, n}
// for the n-th message from src to dst (NCCL matches sends and receives in order per pair).
struct Key {
  int src = -1, dst = -1;
  uint64_t seq = 0;
  auto operator<=>(const Key&) const = default;
};

struct Slot {
  std::vector<std::optional<Call>> posts;  // by rank; point-to-point: [0] the send, [1] the recv
  int posted = 0, unclaimed = 0;
  bool done = false;
  ncclResult_t result = ncclSuccess;
  std::string error;
};

struct Clique {
  int nranks = 0;
  std::string id_note;        // where the unique id came from, for messages
  std::vector<int> devices;   // by rank; -1 until that rank joined
  int joined = 0;
  ncclResult_t broken = ncclSuccess;  // once an abort, a timeout or a bad join ended the clique
  std::string why_broken;
  std::map<Key, Slot> slots;
  std::vector<std::string> last_call;  // by rank, for the message of a rank that did not arrive
  bool complete() const { return joined == nranks; }
};

}  // namespace curec_emu::nccl

// nccl.h's opaque communicator. Guarded by the global lock, like everything here.
struct ncclComm {
  std::shared_ptr<curec_emu::nccl::Clique> clique;  // null while its init waits in a group
  std::string id;  // the unique id's bytes, for the join
  int rank = 0, nranks = 0, device = 0;
  bool blocking = true;
  uint64_t collectives = 0;
  std::vector<uint64_t> sent, received;  // messages so far, by peer
  struct Pending {
    curec_emu::nccl::Key key;
    curec_emu::nccl::Clock::time_point deadline;
    std::string what;
  };
  std::vector<Pending> pending;  // a non-blocking communicator's posted calls not yet claimed
  curec_emu::nccl::Clock::time_point join_deadline;
  bool finalized = false, dead = false;
  int pins = 0;  // calls inside that may sleep (Pins)
  ncclResult_t error = ncclSuccess;  // sticky once the communicator is broken
  std::string failure;                // the message of that first error
  std::string last_error;
};

namespace curec_emu::nccl {

// The lock every NCCL call holds, and the one condition variable its waits sleep on.
std::unique_lock<std::mutex> lock();
std::condition_variable& changed();

// $CUREC_EMU_NCCL_TIMEOUT_S (default 120): how long a rank waits for the others.
double timeout_s();
Clock::time_point deadline();

// Records `message` as the last error (of comm, when given, and of the process) and returns code.
// Printed to stderr with NCCL_DEBUG=WARN or INFO, as NCCL prints its warnings.
ncclResult_t fail(ncclComm* comm, ncclResult_t code, const std::string& message);
// "rank 1 of 2 (cuda:1)"
std::string who(const ncclComm* comm);
const std::string& last_error();

// Communicators that are alive: made and not yet destroyed or aborted.
bool live(const ncclComm* comm);
ncclComm* make_comm();
// Takes comm out of the living; deleted now or when the last call pinning it leaves.
void bury(ncclComm* comm);
// Keeps the communicators alive while this call may sleep (an abort from another thread then
// defers their delete to here). Destroyed with the lock held.
class Pins {
 public:
  void add(ncclComm* comm);
  ~Pins();

 private:
  std::vector<ncclComm*> comms_;
};

// Ends the clique: every member's next call or wait fails with code and why.
void break_clique(Clique& clique, ncclResult_t code, const std::string& why);
// Whether the clique broke; if so comm takes its error.
ncclResult_t check_clique(ncclComm* comm);

// Where a unique id came from, as a clause for messages ("" for one made by this process).
std::string id_origin(const std::string& id);
// Joins comm to the clique of its id (made when the first rank joins).
ncclResult_t post_join(ncclComm* comm);
// Sleeps until every rank joined; the lock is released while asleep.
ncclResult_t await_join(std::unique_lock<std::mutex>& lk, ncclComm* comm);

// Posts comm's part of an operation (the rank that completes the slot runs it) and says which slot.
Key post_call(ncclComm* comm, const Call& call);
bool is_done(const ncclComm* comm, const Key& key);
// The operation's result for comm, once done; the slot goes when every rank took its result.
ncclResult_t claim(ncclComm* comm, const Key& key);
// Sleeps until the slot is done and claims it.
ncclResult_t await_call(std::unique_lock<std::mutex>& lk, ncclComm* comm, const Key& key,
                        Clock::time_point until, const std::string& what);
// A non-blocking communicator's state: its join and pending calls, claimed where done.
ncclResult_t poll(ncclComm* comm);

// "ncclAllReduce(count 4, ncclFloat32, ncclSum)"
std::string describe(const Call& call);
const char* name(Kind kind);

// Runs a completed slot: checks that the ranks' calls match, then moves and reduces the data.
ncclResult_t run(const Clique& clique, const Key& key, Slot& slot, std::string& error);

// Element arithmetic (nccl_reduce.cpp). 0 for a type the emulator does not handle (fp8).
size_t type_size(ncclDataType_t type);
const char* type_name(ncclDataType_t type);
const char* op_name(ncclRedOp_t op);
// acc[i] = acc[i] op x[i]; ncclAvg sums here and divide() finishes it.
void combine(void* acc, const void* x, size_t count, ncclDataType_t type, ncclRedOp_t op);
void divide(void* acc, size_t count, ncclDataType_t type, int nranks);

}  // namespace curec_emu::nccl
