// The NCCL stand-in's cliques: joins, the rendezvous of calls, waits and their failures.
#include "nccl_clique.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <strings.h>
#include <unordered_set>

namespace curec_emu::nccl {

namespace {

struct Registry {
  std::mutex m;
  std::condition_variable cv;
  std::map<std::string, std::shared_ptr<Clique>> forming;  // by unique id, until every rank joined
  std::unordered_set<const ncclComm*> live;
  std::string last_error;
};

Registry& registry() {
  static Registry* r = new Registry;  // never destroyed: threads may still call NCCL at exit
  return *r;
}

std::string list_ranks(const std::vector<int>& ranks) {
  std::ostringstream os;
  os << (ranks.size() == 1 ? "rank " : "ranks ");
  for (size_t i = 0; i < ranks.size(); ++i) os << (i ? ", " : "") << ranks[i];
  return os.str();
}

void forget_forming(const Clique& clique) {
  auto& forming = registry().forming;
  for (auto it = forming.begin(); it != forming.end(); ++it)
    if (it->second.get() == &clique) {
      forming.erase(it);
      return;
    }
}

// Every rank's call must be the same operation: otherwise real NCCL hangs or mixes the data.
std::string mismatch(const Clique& clique, const Key& key, const Slot& slot) {
  const Call& a = *slot.posts[0];
  const bool reduces = a.kind == Kind::all_reduce || a.kind == Kind::reduce || a.kind == Kind::reduce_scatter;
  const bool rooted = a.kind == Kind::reduce || a.kind == Kind::broadcast;
  bool same = true;
  for (const auto& p : slot.posts)
    same = same && p->kind == a.kind && p->count == a.count && p->type == a.type && (!reduces || p->op == a.op) &&
           (!rooted || p->root == a.root);
  if (same) return "";
  std::ostringstream os;
  os << "the ranks' calls at collective #" << key.seq + 1 << " of the communicator do not match:";
  for (int r = 0; r < clique.nranks; ++r)
    os << (r ? ";" : "") << " rank " << r << " called " << describe(*slot.posts[static_cast<size_t>(r)]);
  os << ". Every rank must make the same collectives, with the same counts, types, ops and roots, in the same order";
  return os.str();
}

}  // namespace

std::unique_lock<std::mutex> lock() { return std::unique_lock<std::mutex>(registry().m); }
std::condition_variable& changed() { return registry().cv; }

double timeout_s() {
  const char* s = std::getenv("CUREC_EMU_NCCL_TIMEOUT_S");
  char* end = nullptr;
  const double t = s ? std::strtod(s, &end) : 0;
  return s && end != s && t > 0 ? t : 120.0;
}

Clock::time_point deadline() {
  return Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(timeout_s()));
}

ncclResult_t fail(ncclComm* comm, ncclResult_t code, const std::string& message) {
  registry().last_error = message;
  if (comm) comm->last_error = message;
  if (comm && comm->error != ncclSuccess && comm->failure.empty()) comm->failure = message;
  const char* debug = std::getenv("NCCL_DEBUG");
  if (debug && (!strcasecmp(debug, "WARN") || !strcasecmp(debug, "INFO") || !strcasecmp(debug, "TRACE")))
    std::fprintf(stderr, "curec emulator: NCCL WARN %s\n", message.c_str());
  return code;
}

const std::string& last_error() { return registry().last_error; }

std::string who(const ncclComm* comm) {
  std::ostringstream os;
  os << "rank " << comm->rank << " of " << comm->nranks << " (cuda:" << comm->device << ")";
  return os.str();
}

bool live(const ncclComm* comm) { return comm && registry().live.count(comm); }

ncclComm* make_comm() {
  auto* comm = new ncclComm;
  registry().live.insert(comm);
  return comm;
}

void bury(ncclComm* comm) {
  registry().live.erase(comm);
  comm->dead = true;
  if (comm->pins == 0) delete comm;
}

void Pins::add(ncclComm* comm) {
  ++comm->pins;
  comms_.push_back(comm);
}

Pins::~Pins() {  // the lock is held: Pins live inside the calls' lock scope
  for (ncclComm* c : comms_)
    if (--c->pins == 0 && c->dead) delete c;
}

void break_clique(Clique& clique, ncclResult_t code, const std::string& why) {
  if (clique.broken != ncclSuccess) return;
  clique.broken = code;
  clique.why_broken = why;
  forget_forming(clique);  // a later init with this id starts afresh
  changed().notify_all();
}

ncclResult_t check_clique(ncclComm* comm) {
  if (comm->error != ncclSuccess) return comm->error;
  if (!comm->clique || comm->clique->broken == ncclSuccess) return ncclSuccess;
  comm->error = comm->clique->broken;
  return fail(comm, comm->error, who(comm) + ": " + comm->clique->why_broken);
}

ncclResult_t post_join(ncclComm* comm) {
  auto& slot = registry().forming[comm->id];
  if (!slot) {
    slot = std::make_shared<Clique>();
    slot->nranks = comm->nranks;
    slot->devices.assign(static_cast<size_t>(comm->nranks), -1);
    slot->last_call.assign(static_cast<size_t>(comm->nranks), "no call yet");
    slot->id_note = id_origin(comm->id);
  }
  std::shared_ptr<Clique> clique = slot;
  comm->clique = clique;
  comm->join_deadline = deadline();
  std::ostringstream os;
  if (clique->nranks != comm->nranks)
    os << "rank " << comm->rank << " joins with nranks " << comm->nranks << " but the ranks before it passed nranks "
       << clique->nranks << " for the same unique id";
  else if (clique->devices[static_cast<size_t>(comm->rank)] >= 0)
    os << "rank " << comm->rank << " joined twice with the same unique id";
  if (!os.str().empty()) {
    comm->error = ncclInvalidArgument;
    comm->clique = nullptr;
    return fail(comm, ncclInvalidArgument, "ncclCommInitRank: " + os.str());
  }
  clique->devices[static_cast<size_t>(comm->rank)] = comm->device;
  comm->sent.assign(static_cast<size_t>(comm->nranks), 0);
  comm->received.assign(static_cast<size_t>(comm->nranks), 0);
  if (++clique->joined < clique->nranks) return ncclSuccess;
  forget_forming(*clique);
  // One rank per device, as NCCL requires (two ranks on one GPU are refused or hang there).
  for (int a = 0; a < clique->nranks; ++a)
    for (int b = a + 1; b < clique->nranks; ++b)
      if (clique->devices[a] == clique->devices[b]) {
        std::ostringstream dup;
        dup << "ncclCommInitRank: ranks " << a << " and " << b << " are both on cuda:" << clique->devices[a]
            << "; NCCL takes one rank per device (cudaSetDevice before each rank's init)";
        break_clique(*clique, ncclInvalidUsage, dup.str());
        return check_clique(comm);
      }
  changed().notify_all();
  return ncclSuccess;
}

namespace {

ncclResult_t join_timeout(ncclComm* comm) {
  Clique& c = *comm->clique;
  std::vector<int> missing;
  for (int r = 0; r < c.nranks; ++r)
    if (c.devices[static_cast<size_t>(r)] < 0) missing.push_back(r);
  std::ostringstream os;
  os << "ncclCommInitRank: " << list_ranks(missing) << " of " << c.nranks << " did not join within " << timeout_s()
     << " s ($CUREC_EMU_NCCL_TIMEOUT_S). The emulated NCCL joins the ranks of this one process only (a thread per "
        "rank, or one thread in ncclGroupStart/ncclGroupEnd): ranks in other processes (mpirun, torchrun) cannot be "
        "emulated"
     << c.id_note;
  break_clique(c, ncclSystemError, os.str());
  return check_clique(comm);
}

std::string ordinal(const Key& key) {
  std::ostringstream os;
  if (key.src < 0) os << "collective #" << key.seq + 1;
  else os << "message #" << key.seq + 1 << " from rank " << key.src << " to rank " << key.dst;
  return os.str();
}

ncclResult_t call_timeout(ncclComm* comm, const Key& key, const std::string& what) {
  Clique& c = *comm->clique;
  const Slot& s = c.slots[key];
  std::vector<int> missing;
  if (key.src < 0) {
    for (int r = 0; r < c.nranks; ++r)
      if (!s.posts[static_cast<size_t>(r)]) missing.push_back(r);
  } else {
    missing.push_back(s.posts[0] ? key.dst : key.src);
  }
  std::ostringstream os;
  os << what << " (" << ordinal(key) << ") on " << who(comm) << ": " << list_ranks(missing) << " did not "
     << (key.src < 0 ? "arrive" : s.posts[0] ? "post the matching ncclRecv" : "post the matching ncclSend")
     << " within " << timeout_s() << " s ($CUREC_EMU_NCCL_TIMEOUT_S) (";
  for (size_t i = 0; i < missing.size(); ++i)
    os << (i ? "; " : "") << "rank " << missing[i] << "'s last call: " << c.last_call[static_cast<size_t>(missing[i])];
  os << "). Every rank must make the same collectives in the same order, and a thread that drives several ranks must "
        "put their calls in one ncclGroupStart/ncclGroupEnd";
  comm->error = ncclSystemError;
  fail(comm, ncclSystemError, os.str());
  break_clique(c, ncclRemoteError, "another rank gave up: " + os.str());
  return ncclSystemError;
}

void copy(void* dst, const void* src, size_t bytes) {
  if (bytes) std::memmove(dst, src, bytes);
}

}  // namespace

ncclResult_t await_join(std::unique_lock<std::mutex>& lk, ncclComm* comm) {
  while (true) {
    if (ncclResult_t r = check_clique(comm)) return r;
    if (comm->clique->complete()) return ncclSuccess;
    if (Clock::now() >= comm->join_deadline) return join_timeout(comm);
    changed().wait_until(lk, comm->join_deadline);
  }
}

Key post_call(ncclComm* comm, const Call& call) {
  Clique& c = *comm->clique;
  Key key{-1, -1, 0};
  size_t index = static_cast<size_t>(comm->rank), expected = static_cast<size_t>(c.nranks);
  const auto peer = static_cast<size_t>(call.root);
  if (call.kind == Kind::send) key = {comm->rank, call.root, comm->sent[peer]++}, index = 0, expected = 2;
  else if (call.kind == Kind::recv) key = {call.root, comm->rank, comm->received[peer]++}, index = 1, expected = 2;
  else key.seq = comm->collectives++;
  Slot& s = c.slots[key];
  if (s.posts.empty()) {
    s.posts.resize(expected);
    s.unclaimed = static_cast<int>(expected);
  }
  s.posts[index] = call;
  c.last_call[static_cast<size_t>(comm->rank)] = describe(call) + ", " + ordinal(key);
  if (++s.posted == static_cast<int>(expected)) {
    s.result = run(c, key, s, s.error);
    s.done = true;
    changed().notify_all();
  }
  return key;
}

bool is_done(const ncclComm* comm, const Key& key) {
  auto it = comm->clique->slots.find(key);
  return it != comm->clique->slots.end() && it->second.done;
}

ncclResult_t claim(ncclComm* comm, const Key& key) {
  auto& slots = comm->clique->slots;
  auto it = slots.find(key);
  const ncclResult_t r = it->second.result;
  if (r != ncclSuccess) {
    comm->error = r;
    fail(comm, r, who(comm) + ": " + it->second.error);
  }
  if (--it->second.unclaimed == 0) slots.erase(it);
  return r;
}

ncclResult_t await_call(std::unique_lock<std::mutex>& lk, ncclComm* comm, const Key& key, Clock::time_point until,
                        const std::string& what) {
  while (true) {
    if (is_done(comm, key)) return claim(comm, key);
    if (ncclResult_t r = check_clique(comm)) return r;
    if (Clock::now() >= until) return call_timeout(comm, key, what);
    changed().wait_until(lk, until);
  }
}

ncclResult_t poll(ncclComm* comm) {
  if (comm->error != ncclSuccess) return comm->error;
  if (!comm->clique) return ncclInProgress;  // its init is queued in a group not yet ended
  if (ncclResult_t r = check_clique(comm)) return r;
  if (!comm->clique->complete()) return Clock::now() >= comm->join_deadline ? join_timeout(comm) : ncclInProgress;
  const auto now = Clock::now();
  for (auto it = comm->pending.begin(); it != comm->pending.end();) {
    if (is_done(comm, it->key)) {
      const ncclResult_t r = claim(comm, it->key);
      it = comm->pending.erase(it);
      if (r != ncclSuccess) return r;
    } else if (now >= it->deadline) {
      return call_timeout(comm, it->key, it->what);
    } else {
      ++it;
    }
  }
  return comm->pending.empty() ? ncclSuccess : ncclInProgress;
}

const char* name(Kind kind) {
  switch (kind) {
    case Kind::all_reduce: return "ncclAllReduce";
    case Kind::reduce: return "ncclReduce";
    case Kind::broadcast: return "ncclBroadcast";
    case Kind::all_gather: return "ncclAllGather";
    case Kind::reduce_scatter: return "ncclReduceScatter";
    case Kind::send: return "ncclSend";
    case Kind::recv: return "ncclRecv";
  }
  return "?";
}

std::string describe(const Call& call) {
  std::ostringstream os;
  os << name(call.kind) << "(count " << call.count << ", " << type_name(call.type);
  if (call.kind == Kind::all_reduce || call.kind == Kind::reduce || call.kind == Kind::reduce_scatter)
    os << ", " << op_name(call.op);
  if (call.kind == Kind::reduce || call.kind == Kind::broadcast) os << ", root " << call.root;
  if (call.kind == Kind::send) os << ", to rank " << call.root;
  if (call.kind == Kind::recv) os << ", from rank " << call.root;
  os << ")";
  return os.str();
}

ncclResult_t run(const Clique& clique, const Key& key, Slot& slot, std::string& error) {
  if (key.src >= 0) {
    const Call &s = *slot.posts[0], &r = *slot.posts[1];
    if (s.count != r.count || s.type != r.type) {
      error = "rank " + std::to_string(key.src) + "'s " + describe(s) + " and rank " + std::to_string(key.dst) + "'s " +
              describe(r) + " do not match (" + ordinal(key) + "): a send and its receive take the same count and type";
      return ncclInvalidUsage;
    }
    copy(r.recv, s.send, s.count * type_size(s.type));
    return ncclSuccess;
  }
  error = mismatch(clique, key, slot);
  if (!error.empty()) return ncclInvalidUsage;
  const Call& a = *slot.posts[0];
  const auto n = static_cast<size_t>(clique.nranks);
  const size_t bytes = a.count * type_size(a.type);
  // Every result goes through a copy first, so in-place calls read their inputs before any write.
  std::vector<std::byte> tmp;
  switch (a.kind) {
    case Kind::all_reduce:
    case Kind::reduce:
    case Kind::reduce_scatter: {
      const size_t elems = a.kind == Kind::reduce_scatter ? a.count * n : a.count;
      tmp.resize(elems * type_size(a.type));
      copy(tmp.data(), a.send, tmp.size());
      if (!tmp.empty()) {
        for (size_t r = 1; r < n; ++r) combine(tmp.data(), slot.posts[r]->send, elems, a.type, a.op);
        if (a.op == ncclAvg) divide(tmp.data(), elems, a.type, clique.nranks);
      }
      for (size_t r = 0; r < n; ++r) {
        if (a.kind == Kind::all_reduce) copy(slot.posts[r]->recv, tmp.data(), bytes);
        if (a.kind == Kind::reduce && r == static_cast<size_t>(a.root)) copy(slot.posts[r]->recv, tmp.data(), bytes);
        if (a.kind == Kind::reduce_scatter) copy(slot.posts[r]->recv, tmp.data() + r * bytes, bytes);
      }
      break;
    }
    case Kind::broadcast:
      tmp.resize(bytes);
      copy(tmp.data(), slot.posts[static_cast<size_t>(a.root)]->send, bytes);
      for (size_t r = 0; r < n; ++r) copy(slot.posts[r]->recv, tmp.data(), bytes);
      break;
    case Kind::all_gather:
      tmp.resize(bytes * n);
      for (size_t r = 0; r < n; ++r) copy(tmp.data() + r * bytes, slot.posts[r]->send, bytes);
      for (size_t r = 0; r < n; ++r) copy(slot.posts[r]->recv, tmp.data(), tmp.size());
      break;
    default: break;
  }
  return ncclSuccess;
}

}  // namespace curec_emu::nccl
